package winrmconn

import (
	"bytes"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"patrol/i18n"
	"patrol/internal/upn"
	"patrol/transport"
)

// Client-certificate authentication (auth: cert) goes through the winrm
// library's ClientAuthRequest transport (masterzen/winrm 3fad6e106085). It
// presents the certificate in the TLS handshake and sends the WS-Management
// mutual authentication profile as the Authorization header of every request.
// It verifies the host's certificate against ca_file or the system roots,
// because patrol never sets Endpoint.Insecure.

// loadClientCert reads cert_file and cert_key_file and checks that they hold a
// PEM certificate that is valid now and may be used for client authentication,
// and the private key that belongs to it. Errors are *ConfigError naming the
// file and what to do.
func (c Config) loadClientCert() (certPEM, keyPEM []byte, err error) {
	certPEM, err = c.readCertSetting("cert_file", c.CertFile)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err = c.readCertSetting("cert_key_file", c.CertKeyFile)
	if err != nil {
		return nil, nil, err
	}

	chain, err := c.parseClientCert(certPEM)
	if err != nil {
		return nil, nil, err
	}
	if err := c.checkClientKey(keyPEM); err != nil {
		return nil, nil, err
	}
	// The library builds its TLS certificate with the same call, so a pair
	// that passes here also passes there.
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		if strings.Contains(err.Error(), "does not match") {
			return nil, nil, c.configError(err,
				fmt.Sprintf("cert_key_file %s is not the private key of the certificate in cert_file %s: give the key that was created with this certificate (openssl x509 -in %s -noout -pubkey and openssl pkey -in %s -pubout print the same key when they belong together)", c.CertKeyFile, c.CertFile, c.CertFile, c.CertKeyFile),
				fmt.Sprintf("cert_key_file %s 不是 cert_file %s 中证书对应的私钥：请填写与该证书一同生成的私钥（二者配对时，openssl x509 -in %s -noout -pubkey 与 openssl pkey -in %s -pubout 输出相同的公钥）", c.CertKeyFile, c.CertFile, c.CertFile, c.CertKeyFile))
		}
		return nil, nil, c.configError(err,
			fmt.Sprintf("cert_key_file %s cannot be used with cert_file %s: %v: give an unencrypted RSA, ECDSA or Ed25519 private key in PEM form (PKCS #1, SEC 1 or PKCS #8)", c.CertKeyFile, c.CertFile, err),
			fmt.Sprintf("cert_key_file %s 无法与 cert_file %s 配合使用：%v；请提供未加密的 PEM 格式 RSA、ECDSA 或 Ed25519 私钥（PKCS #1、SEC 1 或 PKCS #8）", c.CertKeyFile, c.CertFile, err))
	}

	if err := c.checkClientCertUse(chain[0], time.Now()); err != nil {
		return nil, nil, err
	}
	return certPEM, keyPEM, nil
}

// readCertSetting reads the file of an inventory setting.
func (c Config) readCertSetting(setting, path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		return data, nil
	case errors.Is(err, fs.ErrNotExist) && setting == "cert_key_file":
		return nil, c.configError(err,
			fmt.Sprintf("cert_key_file %s: file not found: set cert_key_file to the path of the PEM private key of cert_file %s", path, c.CertFile),
			fmt.Sprintf("cert_key_file %s：文件不存在；请把 cert_key_file 设为 cert_file %s 对应的 PEM 私钥的路径", path, c.CertFile))
	case errors.Is(err, fs.ErrNotExist):
		return nil, c.configError(err,
			fmt.Sprintf("%s %s: file not found: set %s to the path of the PEM client certificate that the host maps to an account", setting, path, setting),
			fmt.Sprintf("%s %s：文件不存在；请把 %s 设为主机映射到账户的 PEM 客户端证书的路径", setting, path, setting))
	case errors.Is(err, fs.ErrPermission):
		return nil, c.configError(err,
			fmt.Sprintf("%s %s: permission denied: make the file readable by the user who runs patrol", setting, path),
			fmt.Sprintf("%s %s：没有读取权限；请让运行 patrol 的用户可以读取该文件", setting, path))
	default:
		return nil, c.configError(err,
			fmt.Sprintf("%s %s cannot be read: %v: set %s to a readable PEM file", setting, path, err, setting),
			fmt.Sprintf("无法读取 %s %s：%v；请把 %s 设为可读取的 PEM 文件", setting, path, err, setting))
	}
}

// parseClientCert returns the certificates of cert_file, the client
// certificate first.
func (c Config) parseClientCert(data []byte) ([]*x509.Certificate, error) {
	var chain []*x509.Certificate
	hasKey := false
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		switch {
		case block.Type == "CERTIFICATE":
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, c.configError(err,
					fmt.Sprintf("cert_file %s: certificate %d is invalid: %v: give the client certificate as issued, in PEM form", c.CertFile, len(chain)+1, err),
					fmt.Sprintf("cert_file %s：第 %d 个证书无效：%v；请提供签发时的 PEM 格式客户端证书", c.CertFile, len(chain)+1, err))
			}
			chain = append(chain, cert)
		case strings.HasSuffix(block.Type, "PRIVATE KEY"):
			hasKey = true
		}
	}
	if len(chain) > 0 {
		return chain, nil
	}

	switch {
	case hasKey:
		return nil, c.configError(nil,
			fmt.Sprintf("cert_file %s contains a private key but no certificate: cert_file and cert_key_file look swapped; cert_file takes the certificate (-----BEGIN CERTIFICATE-----)", c.CertFile),
			fmt.Sprintf("cert_file %s 中只有私钥没有证书：cert_file 与 cert_key_file 可能填反了；cert_file 应填证书（-----BEGIN CERTIFICATE-----）", c.CertFile))
	case isDERCertificate(data):
		return nil, c.configError(nil,
			fmt.Sprintf("cert_file %s is a DER (binary) certificate, not PEM: convert it with openssl x509 -inform der -in %s -out client.pem and set cert_file to client.pem", c.CertFile, c.CertFile),
			fmt.Sprintf("cert_file %s 是 DER（二进制）证书而不是 PEM：请用 openssl x509 -inform der -in %s -out client.pem 转换，并把 cert_file 设为 client.pem", c.CertFile, c.CertFile))
	default:
		return nil, c.configError(nil,
			fmt.Sprintf("cert_file %s is not a PEM certificate (no -----BEGIN CERTIFICATE----- block): give the client certificate in PEM form; a .pfx file converts with openssl pkcs12 -in FILE.pfx -clcerts -nokeys -out client.pem", c.CertFile),
			fmt.Sprintf("cert_file %s 不是 PEM 证书（没有 -----BEGIN CERTIFICATE----- 块）：请提供 PEM 格式的客户端证书；.pfx 文件可用 openssl pkcs12 -in FILE.pfx -clcerts -nokeys -out client.pem 转换", c.CertFile))
	}
}

// checkClientKey checks that cert_key_file holds an unencrypted PEM private
// key, which is all the winrm library can use.
func (c Config) checkClientKey(data []byte) error {
	hasCert := false
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		switch {
		case block.Type == "ENCRYPTED PRIVATE KEY" || strings.HasSuffix(block.Type, "PRIVATE KEY") && strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED"):
			return c.configError(nil,
				fmt.Sprintf("cert_key_file %s is encrypted with a passphrase, which WinRM certificate authentication cannot use: write an unencrypted copy that only you can read, such as openssl pkey -in %s -out client-key.pem && chmod 600 client-key.pem, and set cert_key_file to it", c.CertKeyFile, c.CertKeyFile),
				fmt.Sprintf("cert_key_file %s 有口令加密，WinRM 证书认证无法使用：请生成仅自己可读的未加密副本，例如 openssl pkey -in %s -out client-key.pem && chmod 600 client-key.pem，并把 cert_key_file 设为该文件", c.CertKeyFile, c.CertKeyFile))
		case strings.HasSuffix(block.Type, "PRIVATE KEY"):
			return nil
		case block.Type == "CERTIFICATE":
			hasCert = true
		}
	}

	if hasCert {
		return c.configError(nil,
			fmt.Sprintf("cert_key_file %s contains a certificate but no private key: cert_file and cert_key_file look swapped; cert_key_file takes the private key (-----BEGIN PRIVATE KEY-----)", c.CertKeyFile),
			fmt.Sprintf("cert_key_file %s 中只有证书没有私钥：cert_file 与 cert_key_file 可能填反了；cert_key_file 应填私钥（-----BEGIN PRIVATE KEY-----）", c.CertKeyFile))
	}
	return c.configError(nil,
		fmt.Sprintf("cert_key_file %s is not a PEM private key (no -----BEGIN PRIVATE KEY----- block): give the unencrypted key in PEM form; a .pfx file converts with openssl pkcs12 -in FILE.pfx -nocerts -nodes -out client-key.pem", c.CertKeyFile),
		fmt.Sprintf("cert_key_file %s 不是 PEM 私钥（没有 -----BEGIN PRIVATE KEY----- 块）：请提供未加密的 PEM 格式私钥；.pfx 文件可用 openssl pkcs12 -in FILE.pfx -nocerts -nodes -out client-key.pem 转换", c.CertKeyFile))
}

// checkClientCertUse rejects a client certificate that the host would reject
// for its dates or its extended key usage.
func (c Config) checkClientCertUse(leaf *x509.Certificate, now time.Time) error {
	const day = "2006-01-02 15:04 MST"
	switch {
	case now.After(leaf.NotAfter):
		return c.configError(nil,
			fmt.Sprintf("cert_file %s: the client certificate %s expired at %s: issue a new one and, if its issuer changed, update the certmapping on the host", c.CertFile, leaf.Subject, leaf.NotAfter.UTC().Format(day)),
			fmt.Sprintf("cert_file %s：客户端证书 %s 已于 %s 过期：请签发新证书；如果签发者变了，还要更新主机上的 certmapping", c.CertFile, leaf.Subject, leaf.NotAfter.UTC().Format(day)))
	case now.Before(leaf.NotBefore):
		return c.configError(nil,
			fmt.Sprintf("cert_file %s: the client certificate %s is not valid before %s: check the clock of this machine, or wait until then", c.CertFile, leaf.Subject, leaf.NotBefore.UTC().Format(day)),
			fmt.Sprintf("cert_file %s：客户端证书 %s 在 %s 之前无效：请检查本机时钟，或等到该时间以后", c.CertFile, leaf.Subject, leaf.NotBefore.UTC().Format(day)))
	}

	// A certificate without extended key usage may be used for anything.
	if len(leaf.ExtKeyUsage) > 0 && !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageClientAuth) && !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageAny) {
		return c.configError(nil,
			fmt.Sprintf("cert_file %s: the certificate %s is not for client authentication (its extended key usage lacks clientAuth, 1.3.6.1.5.5.7.3.2): issue a client authentication certificate, such as one from the User template of a Windows CA", c.CertFile, leaf.Subject),
			fmt.Sprintf("cert_file %s：证书 %s 不能用于客户端认证（扩展密钥用法中没有 clientAuth，1.3.6.1.5.5.7.3.2）：请签发客户端认证证书，例如 Windows CA 的“用户”模板", c.CertFile, leaf.Subject))
	}
	return nil
}

func isDERCertificate(data []byte) bool {
	_, err := x509.ParseCertificate(data)
	return err == nil
}

// CertRejectedError means the host did not accept the client certificate:
// WinRM returned 401, or the TLS handshake ended with an alert.
type CertRejectedError struct {
	Host    string
	Address string
	// CertFile is the cert_file setting; Subject, UPN and Issuer describe its
	// certificate and are empty when the file can no longer be read.
	CertFile string
	Subject  string
	UPN      string
	Issuer   string
	// IssuerThumbprint is the SHA-1 thumbprint of the issuing CA when
	// cert_file contains it, else empty.
	IssuerThumbprint string
	// Cause describes the rejection: an HTTP 401 or a TLS alert.
	Cause i18n.Text
	// Err is the error of the winrm library.
	Err error
}

func (e *CertRejectedError) Error() string { return e.Message().EN }

func (e *CertRejectedError) Unwrap() error { return e.Err }

// Message returns the user-facing text in both languages.
func (e *CertRejectedError) Message() i18n.Text {
	described, describedZH := "", ""
	if e.Subject != "" {
		described = fmt.Sprintf(" (subject %s, issuer %s", e.Subject, e.Issuer)
		describedZH = fmt.Sprintf("（主体 %s，签发者 %s", e.Subject, e.Issuer)
		if e.UPN != "" {
			described += ", UPN " + e.UPN
			describedZH += "，UPN " + e.UPN
		}
		described += ")"
		describedZH += "）"
	}
	issuer, subject := e.IssuerThumbprint, e.UPN
	if issuer == "" {
		issuer = "<thumbprint of the issuing CA>"
	}
	if subject == "" {
		subject = "<UPN of the certificate>"
	}
	// Both commands are written for PowerShell, where '@{...}' must be
	// quoted (see cmdExeForm). The message explains how cmd.exe differs.
	mapping := fmt.Sprintf(`winrm create winrm/config/service/certmapping?Issuer=%s+Subject=%s+URI=* '@{UserName="<local user>";Password="<password>"}' -remote:localhost`, issuer, subject)
	enable := `winrm set winrm/config/service/auth '@{Certificate="true"}'`

	return i18n.T(
		fmt.Sprintf("host %s (%s) rejected the client certificate in cert_file %s%s: %s; on the host, enable certificate authentication with %s, trust the issuing CA in the computer's Trusted Root or Intermediate Certification Authorities store, and map the certificate to a local account with %s (PowerShell commands; in cmd.exe, leave out the single quotes around @{...})",
			e.Host, e.Address, e.CertFile, described, e.Cause.EN, enable, mapping),
		fmt.Sprintf("主机 %s（%s）拒绝了 cert_file %s 中的客户端证书%s：%s；请在主机上用 %s 启用证书认证，把签发 CA 导入计算机的“受信任的根证书颁发机构”或“中级证书颁发机构”存储，并用 %s 把证书映射到本地账户（以上为 PowerShell 命令；在 cmd.exe 中请去掉 @{...} 两侧的单引号）",
			e.Host, e.Address, e.CertFile, describedZH, e.Cause.ZH, enable, mapping),
	)
}

// certDialError returns the error for a failed first request under auth: cert
// when the host rejected the client certificate, or nil to let dialError sort
// err. A failed verification of the host's own certificate is left to
// dialError, which reports it like a changed SSH host key.
func (c Config) certDialError(err error) error {
	// The library reports statuses only in its error text.
	text := err.Error()
	var cause i18n.Text
	switch {
	case strings.Contains(text, "http error 401"), strings.Contains(text, "http response error: 401"):
		cause = i18n.T("WinRM answered 401 Unauthorized", "WinRM 返回 401 Unauthorized")
	case strings.Contains(text, "remote error: tls:"):
		cause = i18n.T("the TLS handshake failed: "+text, "TLS 握手失败："+text)
	default:
		return nil
	}

	rejection := &CertRejectedError{
		Host:     c.Host,
		Address:  fmt.Sprintf("%s:%d", c.Address, c.Port),
		CertFile: c.CertFile,
		Cause:    cause,
		Err:      err,
	}
	if data, readErr := os.ReadFile(c.CertFile); readErr == nil {
		describeClientCert(rejection, data)
	}
	return &transport.UnreachableError{Host: c.Host, Reason: "auth", Err: rejection}
}

// describeClientCert fills the certificate fields of e from the PEM of
// cert_file.
func describeClientCert(e *CertRejectedError, data []byte) {
	var chain []*x509.Certificate
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		if cert, err := x509.ParseCertificate(block.Bytes); err == nil {
			chain = append(chain, cert)
		}
	}
	if len(chain) == 0 {
		return
	}

	leaf := chain[0]
	e.Subject, e.Issuer = leaf.Subject.String(), leaf.Issuer.String()
	if principal, err := upn.FromCertificate(leaf); err == nil {
		e.UPN = principal
	}
	for _, cert := range chain[1:] {
		if bytes.Equal(cert.RawSubject, leaf.RawIssuer) {
			// certmapping takes the issuer as a thumbprint of 40 hex digits,
			// which Windows computes as the SHA-1 of the DER certificate.
			sum := sha1.Sum(cert.Raw)
			e.IssuerThumbprint = strings.ToUpper(hex.EncodeToString(sum[:]))
			break
		}
	}
}
