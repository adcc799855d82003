# pki.sh: certificates with openssl and a config of our own (never
# the machine's openssl.cnf), for the control plane (cluster.sh) and the
# node's next CA (node.sh). Needs SERVICE_IP for the serving SANs.
# Sourced, not run.

# openssl gets its own config (not the machine's openssl.cnf), so the
# certificates have exactly these extensions wherever this runs.
write_openssl_cnf() {
	cat >"$1" <<EOF
[req]
distinguished_name = req_dn
[req_dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
[apiserver]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = IP:127.0.0.1,IP:::1,IP:$SERVICE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[etcd_server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = IP:127.0.0.1,DNS:localhost
EOF
}

ec_key() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}

# new_ca DIR NAME CN
new_ca() {
	local d=$1 name=$2 cn=$3
	ec_key "$d/$name.key"
	openssl req -config "$d/openssl.cnf" -x509 -new -sha256 -days 3650 \
		-key "$d/$name.key" -subj "/CN=$cn" -extensions ca -out "$d/$name.crt"
}

# new_cert DIR NAME CA SUBJECT EXTENSIONS
new_cert() {
	local d=$1 name=$2 ca=$3 subj=$4 ext=$5
	ec_key "$d/$name.key"
	openssl req -config "$d/openssl.cnf" -new -sha256 -key "$d/$name.key" -subj "$subj" -out "$d/$name.csr"
	openssl x509 -req -sha256 -days 3650 -in "$d/$name.csr" \
		-CA "$d/$ca.crt" -CAkey "$d/$ca.key" -set_serial "0x$(openssl rand -hex 16)" \
		-extfile "$d/openssl.cnf" -extensions "$ext" -out "$d/$name.crt" 2>/dev/null
	rm -f -- "$d/$name.csr"
}
