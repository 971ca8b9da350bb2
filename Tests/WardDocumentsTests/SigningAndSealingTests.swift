import Crypto
import Foundation
import NIOCore
import Testing
import WardDocuments

/// The two pieces written for want of a library: SigV4, checked against AWS's published
/// examples, and the chunked encryption, checked at every boundary and against tampering.
@Suite("Signing and sealing")
struct SigningAndSealingTests {
    @Test("SigV4 reproduces AWS's published examples: the test suite's get-vanilla and S3's GET Object with a range")
    func awsExamples() {
        // AWS Signature Version 4 test suite, get-vanilla.
        let suite = SigV4Signer(credentials: .init(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                                region: "us-east-1", service: "service")
        let vanilla = suite.sign(method: "GET", path: "/", query: [], headers: [("Host", "example.amazonaws.com")],
                                 payloadHash: SigV4Signer.emptyPayloadHash, date: Date(timeIntervalSince1970: 1_440_938_160))
        #expect(vanilla.first { $0.0 == "Authorization" }?.1 == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            + "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")

        // Amazon S3 API reference, "Signature Calculations for the Authorization Header", GET Object.
        let s3 = SigV4Signer(credentials: .init(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
                             region: "us-east-1")
        let canonical = s3.canonicalRequest(method: "GET", path: "/test.txt", query: [],
                                            headers: [("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9"),
                                                      ("x-amz-content-sha256", SigV4Signer.emptyPayloadHash), ("x-amz-date", "20130524T000000Z")],
                                            payloadHash: SigV4Signer.emptyPayloadHash)
        #expect(SigV4Signer.hex(SHA256.hash(data: Data(canonical.0.utf8))) == "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972")
        let object = s3.sign(method: "GET", path: "/test.txt", query: [], headers: [("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9")],
                             payloadHash: SigV4Signer.emptyPayloadHash, date: Date(timeIntervalSince1970: 1_369_353_600))
        #expect(object.first { $0.0 == "Authorization" }?.1 == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(SigV4Signer.encode("tenants/a b/ü", keepingSlash: true) == "tenants/a%20b/%C3%BC")
    }

    static func seal(_ plain: [UInt8], key: SymmetricKey, header: ChunkedCipher.Header, objectKey: String = "tenants/t/documents/d", pieces: Int = 7) async throws -> [UInt8] {
        // The plaintext arrives in uneven buffers, as a request body does.
        let step = max(1, plain.count / pieces + 1)
        let buffers = stride(from: 0, to: plain.count, by: step).map { ByteBuffer(bytes: plain[$0..<min(plain.count, $0 + step)]) }
        let source = Pending(buffers)
        let sealed = ChunkedCipher.sealing(ByteStream { await source.next() }, header: header, objectKey: objectKey, key: key)
        var out: [UInt8] = []
        for try await buffer in sealed { out += buffer.readableBytesView }
        return out
    }

    static func open(_ object: [UInt8], size: Int, range: Range<Int>, key: SymmetricKey, header: ChunkedCipher.Header,
                     objectKey: String = "tenants/t/documents/d") async throws -> [UInt8] {
        let span = ChunkedCipher.span(of: range, plaintextSize: size)
        let stored = ByteStream.of(ByteBuffer(bytes: object[span.objectRange.clamped(to: 0..<object.count)]))
        var out: [UInt8] = []
        for try await buffer in ChunkedCipher.opening(stored, header: header, objectKey: objectKey, key: key, plaintextSize: size, range: range) {
            out += buffer.readableBytesView
        }
        return out
    }

    @Test("sealed objects open to the same bytes at every chunk boundary, whole and by range", arguments: [1, 65_535, 65_536, 65_537, 131_072, 200_001])
    func roundTrip(_ size: Int) async throws {
        let key = SymmetricKey(size: .bits256), header = ChunkedCipher.Header.fresh(keyGeneration: 1)
        let plain = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let object = try await Self.seal(plain, key: key, header: header)
        #expect(object.count == ChunkedCipher.objectSize(plaintextSize: size))
        #expect(Array(object.prefix(4)) == Array("WRD1".utf8))
        #expect(try await Self.open(object, size: size, range: 0..<size, key: key, header: header) == plain)
        for range in [0..<1, (size - 1)..<size, (size / 2)..<min(size, size / 2 + 70_000)] where !range.isEmpty {
            #expect(try await Self.open(object, size: size, range: range, key: key, header: header) == Array(plain[range]), "\(range)")
        }
    }

    @Test("a flipped bit, a chunk cut off, chunks swapped, another key or another object's name: each fails to open")
    func tampering() async throws {
        let key = SymmetricKey(size: .bits256), header = ChunkedCipher.Header.fresh(keyGeneration: 1)
        let size = 150_000
        let plain = (0..<size).map { UInt8(truncatingIfNeeded: $0) }
        let object = try await Self.seal(plain, key: key, header: header)
        func fails(_ object: [UInt8], size: Int = size, key: SymmetricKey = key, objectKey: String = "tenants/t/documents/d") async -> Bool {
            do {
                _ = try await Self.open(object, size: size, range: 0..<size, key: key, header: header, objectKey: objectKey)
                return false
            } catch is DocumentDamaged {
                return true
            } catch {
                return false
            }
        }
        var flipped = object
        flipped[70_000] ^= 0x01
        #expect(await fails(flipped))
        // Cut after the second chunk and told the document is that long: its last chunk is not marked final.
        let twoChunks = Array(object.prefix(ChunkedCipher.headerSize + 2 * (65_536 + 16)))
        #expect(await fails(twoChunks, size: 131_072))
        #expect(await fails(Array(object.dropLast(5))))
        var swapped = object
        let stride = 65_536 + 16
        swapped.replaceSubrange(16..<(16 + stride), with: object[(16 + stride)..<(16 + 2 * stride)])
        swapped.replaceSubrange((16 + stride)..<(16 + 2 * stride), with: object[16..<(16 + stride)])
        #expect(await fails(swapped))
        #expect(await fails(object, key: SymmetricKey(size: .bits256)))
        #expect(await fails(object, objectKey: "tenants/t/documents/other"))
    }
}

/// Buffers handed out one at a time.
actor Pending {
    var buffers: [ByteBuffer]
    init(_ buffers: [ByteBuffer]) { self.buffers = buffers }
    func next() -> ByteBuffer? { buffers.isEmpty ? nil : buffers.removeFirst() }
}
