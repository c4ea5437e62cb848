#!/bin/sh
# Installs the Debian packages the tests run against (a real OpenSSH server, the
# real rpm tool, sudo, iproute2, iptables, openssl, unzip) when any is missing.
# Needs root or sudo.
set -eu

missing=""
command -v /usr/sbin/sshd >/dev/null 2>&1 || missing="$missing openssh-server"
command -v ssh >/dev/null 2>&1 || missing="$missing openssh-client"
command -v rpm >/dev/null 2>&1 || missing="$missing rpm"
command -v rpmbuild >/dev/null 2>&1 || missing="$missing rpm"
command -v sudo >/dev/null 2>&1 || missing="$missing sudo"
command -v ip >/dev/null 2>&1 || missing="$missing iproute2"
command -v ss >/dev/null 2>&1 || missing="$missing iproute2"
command -v tc >/dev/null 2>&1 || missing="$missing iproute2"
command -v iptables >/dev/null 2>&1 || missing="$missing iptables"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
command -v unzip >/dev/null 2>&1 || missing="$missing unzip"
# The patch tests pack busybox as /bin/sh into their test RPMs, because rpm
# runs scriptlets chrooted into the rpm root; the health check runs curl.
[ -x /bin/busybox ] || missing="$missing busybox-static"
command -v curl >/dev/null 2>&1 || missing="$missing curl"

[ -z "$missing" ] && exit 0

as_root=""
[ "$(id -u)" -eq 0 ] || as_root="sudo"
echo "installing test packages:$missing" >&2
$as_root apt-get update -qq
DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq --no-install-recommends $missing >&2
