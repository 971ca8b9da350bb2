# Sourced by scripts/check-deploy (nginx -t) and scripts/deploy-e2e (a running nginx): the
# shipped site, deploy/nginx/ward.conf, made runnable without root and without touching /etc:
# a throwaway self-signed certificate, logs in a directory of the caller's, ports 80 and 443
# moved to the ones given. Nothing else changes, so what runs is the site as shipped.

# render_ward_site DIR HTTP_PORT HTTPS_PORT: writes DIR/ward.conf (and DIR/tls, DIR/log,
# DIR/tmp). Each rewrite must have matched, so a renamed directive fails here rather than
# being run unrewritten.
render_ward_site() {
    local dir=$1 http_port=$2 https_port=$3 site=deploy/nginx/ward.conf
    # Explicit returns: check-deploy calls this where errexit does not apply.
    mkdir -p "$dir/tls" "$dir/log" "$dir/tmp" || return 1
    # Valid for the names the site serves, so a client given it as its CA (curl --cacert) accepts it.
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=ward.example.org \
        -addext 'subjectAltName=DNS:ward.example.org,DNS:*.ward.example.org' \
        -keyout "$dir/tls/privkey.pem" -out "$dir/tls/fullchain.pem" 2>/dev/null || { echo "openssl could not make a certificate"; return 1; }
    sed -E \
        -e "s#^([[:space:]]*ssl_certificate)[[:space:]]+[^;]+;#\1 $dir/tls/fullchain.pem;#" \
        -e "s#^([[:space:]]*ssl_certificate_key)[[:space:]]+[^;]+;#\1 $dir/tls/privkey.pem;#" \
        -e "s#^([[:space:]]*access_log)[[:space:]]+/[^ ;]+#\1 $dir/log/access.log#" \
        -e "s#^([[:space:]]*listen[[:space:]]+(\[::\]:)?)80\b#\1$http_port#" \
        -e "s#^([[:space:]]*listen[[:space:]]+(\[::\]:)?)443\b#\1$https_port#" \
        "$site" >"$dir/ward.conf" || return 1
    local pattern
    for pattern in "ssl_certificate $dir/" "ssl_certificate_key $dir/" "access_log $dir/" "listen $http_port" "listen $https_port"; do
        grep -q -- "$pattern" "$dir/ward.conf" || { echo "rewriting $site failed: no '$pattern'"; return 1; }
    done
    if grep -qE '^[[:space:]]*listen[[:space:]]+(\[::\]:)?(80|443)\b' "$dir/ward.conf"; then
        echo "rewriting $site left a privileged port"; return 1
    fi
}

# write_nginx_main DIR [MAIN-CONTEXT-LINES]: DIR/nginx.conf, the main file around the site:
# pid, logs and temporary files under DIR, then DIR/upstream.conf and DIR/ward.conf in the
# http context, as /etc/nginx/nginx.conf includes conf.d/*.conf.
write_nginx_main() {
    local dir=$1 extra=${2:-}
    cat >"$dir/nginx.conf" <<EOF
pid $dir/nginx.pid;
error_log $dir/log/error.log;
$extra
events {}
http {
    access_log $dir/log/access.log;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    include $dir/upstream.conf;
    include $dir/ward.conf;
}
EOF
}
