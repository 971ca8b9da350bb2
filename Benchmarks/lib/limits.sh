# Sourced by the benchmark scripts: every rate-limit policy stays on (each request is counted,
# as in production) with quotas no benchmark reaches, so the server is measured, not a quota.
# A run may set WARD_RATE_LIMITS itself.
export WARD_RATE_LIMITS=${WARD_RATE_LIMITS:-address=10000000/h,user=10000000/h,session=10000000/h,platform=10000000/h,booking=10000000/h,export=10000000/h,upload=10000000/h}
