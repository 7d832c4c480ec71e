# Pieces of openssl configuration the PKI scripts share (make-test-fixtures.sh,
# make-examples.sh, make-revocation-pki.sh). Source it; each function prints a
# piece of an openssl config file on stdout.

# pki_ca_extensions [LINE...]: the [root_ca] and [issuing_ca] extension
# sections; LINEs are added to [issuing_ca] (a CRL distribution point, say).
pki_ca_extensions() {
  cat <<'EOF'
[root_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[issuing_ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
  [ $# -eq 0 ] || printf '%s\n' "$@"
  echo
}

# pki_signer_extensions NAME [LINE...]: an end-entity section for a document
# signer (digitalSignature, nonRepudiation), with LINEs added (an extended key
# usage, OCSP and CRL locations).
pki_signer_extensions() {
  local name="$1"
  shift
  printf '[%s]\n' "$name"
  cat <<'EOF'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
  [ $# -eq 0 ] || printf '%s\n' "$@"
  echo
}

# pki_ca_dir DIR: the files `openssl ca` keeps for one CA.
pki_ca_dir() {
  mkdir -p "$1/new"
  : >"$1/index.txt"
  echo 1000 >"$1/serial"
  echo 01 >"$1/crlnumber"
}

# pki_ca_section NAME DIR CERT KEY [LINE...]: an `openssl ca` section for the CA
# whose files pki_ca_dir made in DIR, issuing under CERT and KEY.
pki_ca_section() {
  printf '[%s]\n' "$1"
  cat <<EOF
database = $2/index.txt
new_certs_dir = $2/new
serial = $2/serial
crlnumber = $2/crlnumber
certificate = $3
private_key = $4
default_md = sha256
policy = any_dn
unique_subject = no
copy_extensions = none
EOF
  shift 4
  [ $# -eq 0 ] || printf '%s\n' "$@"
  echo
}

# pki_any_dn_policy: the [any_dn] policy pki_ca_section names: any subject
# with a common name.
pki_any_dn_policy() {
  cat <<'EOF'
[any_dn]
countryName = optional
organizationName = optional
commonName = supplied

EOF
}
