package checks

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"sync/atomic"
	"time"

	"patrol/i18n"
	"patrol/module"
)

const httpCheck = "check.http"

// maxBodyBytes bounds how much of a response body is searched for contains.
const maxBodyBytes = 4 << 20

func httpSpec() *module.Spec {
	return &module.Spec{
		Name:  httpCheck,
		Title: i18n.T("Web page", "网页可用性"),
		Doc: i18n.T(
			"Fetches a URL from the machine running patrol (not from the host) and checks "+
				"status, body text, latency and TLS certificate days left.",
			"从运行 patrol 的机器（而不是主机）请求 URL，检查状态码、响应正文、延迟和 TLS 证书剩余天数。"),
		Check: true,
		Args: []module.Arg{
			{Name: "url", Type: module.String, Required: true, Doc: i18n.T("http:// or https:// URL, requested from the machine running patrol", "http:// 或 https:// URL，从运行 patrol 的机器请求")},
			{Name: "status", Type: module.Int, Default: 200, Doc: i18n.T("expected HTTP status code", "预期的 HTTP 状态码")},
			{Name: "contains", Type: module.String, Doc: i18n.T("text the response body must contain (first 4 MiB searched)", "响应正文必须包含的文本（只查找前 4 MiB）")},
			{Name: "max_latency", Type: module.Duration, Doc: i18n.T("time to the full response above which the check warns (optional)", "收到完整响应的时间超过该值时判为警告（可选）")},
			{Name: "tls_warn_days", Type: module.Int, Default: 30, Doc: i18n.T("certificate days left at which the check warns", "证书剩余天数达到该值时判为警告")},
			{Name: "tls_fail_days", Type: module.Int, Default: 7, Doc: i18n.T("certificate days left at which the check fails", "证书剩余天数达到该值时判为不合格")},
			{Name: "insecure", Type: module.Bool, Default: false, Doc: i18n.T("skip certificate verification (days left are still reported)", "跳过证书验证（仍报告剩余天数）")},
			{Name: "ca_file", Type: module.String, Doc: i18n.T("PEM file of CA certificates to trust instead of the system pool, on the machine running patrol", "运行 patrol 的机器上的 PEM 格式 CA 证书文件，代替系统证书库作为信任根")},
			{Name: "timeout", Type: module.Duration, Default: 30 * time.Second, Doc: i18n.T("time limit for the whole request", "整个请求的时限")},
		},
		Run: runHTTP,
	}
}

// runHTTP requests the URL with net/http from the machine running patrol, so the
// host needs no curl and the result matches what a user on patrol's network gets.
// The task's host only gives the finding its context, and nothing runs on it.
func runHTTP(ctx context.Context, env *module.Env, args module.Args) (module.Result, error) {
	url := args.String("url")
	timeout, _, err := durationArg(args, "timeout")
	if err != nil {
		return result([]module.Finding{argError(httpCheck, err)}), nil
	}
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	maxLatency, _, err := durationArg(args, "max_latency")
	if err != nil {
		return result([]module.Finding{argError(httpCheck, err)}), nil
	}

	client, err := httpClient(args.Bool("insecure"), args.String("ca_file"), timeout)
	if err != nil {
		return result([]module.Finding{argError(httpCheck, err)}), nil
	}

	obs := fetchURL(ctx, client, url)
	opts := httpOptions{
		Status:     intArg(args, "status", 200),
		Contains:   args.String("contains"),
		MaxLatency: maxLatency,
		TLS:        daysLeftThreshold(float64(intArg(args, "tls_warn_days", 30)), float64(intArg(args, "tls_fail_days", 7))),
	}
	return result(evaluateHTTP(url, obs, opts, now(env))), nil
}

func httpClient(insecure bool, caFile string, timeout time.Duration) (*http.Client, error) {
	cfg := &tls.Config{InsecureSkipVerify: insecure} // #nosec G402 -- only when the playbook sets insecure: true.
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s: %w: no PEM certificate found", caFile, errArg)
		}
		cfg.RootCAs = pool
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = cfg
	return &http.Client{Transport: transport, Timeout: timeout}, nil
}

// httpObservation is the measurement of one request.
type httpObservation struct {
	Err error
	// Connected is true once a connection to the server was made, so that a
	// timeout after it is the application's, not the host's.
	Connected bool
	Status    int
	Body      []byte
	Latency   time.Duration
	LeafCert  *tlsLeaf
}

type tlsLeaf struct {
	Subject  string
	NotAfter time.Time
}

func fetchURL(ctx context.Context, client *http.Client, url string) httpObservation {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return httpObservation{Err: err}
	}
	req.Header.Set("User-Agent", "patrol-check-http")
	// GotConn may run on the transport's goroutine after Do gave up.
	var connected atomic.Bool
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(httptrace.GotConnInfo) { connected.Store(true) },
	}))

	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return httpObservation{Err: err, Connected: connected.Load()}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	obs := httpObservation{Status: resp.StatusCode, Body: body, Latency: time.Since(start)}
	if err != nil {
		obs.Err = fmt.Errorf("read body: %w", err)
	}
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		leaf := resp.TLS.PeerCertificates[0]
		obs.LeafCert = &tlsLeaf{Subject: leaf.Subject.String(), NotAfter: leaf.NotAfter}
	}
	return obs
}

type httpOptions struct {
	Status     int
	Contains   string
	MaxLatency time.Duration
	TLS        Threshold
}

// evaluateHTTP gives a finding for the response (status and body text), one for
// latency when max_latency is set, and one for the certificate of https URLs.
func evaluateHTTP(url string, obs httpObservation, opts httpOptions, at time.Time) []module.Finding {
	if obs.Err != nil && obs.Status == 0 {
		cause := errorText(obs.Err)
		if obs.Connected && isTimeout(obs.Err) {
			cause = i18n.T("the server accepted the connection but did not reply in time; check the web application and its logs",
				"服务器已接受连接，但未在时限内应答；请检查 Web 应用及其日志")
		}
		return []module.Finding{{
			Check:     httpCheck,
			Item:      url,
			Status:    module.StatusFail,
			Value:     i18n.T("no response", "无响应"),
			Threshold: statusText(opts.Status),
			Message: i18n.T(
				fmt.Sprintf("request to %s failed: %s", url, cause.EN),
				fmt.Sprintf("请求 %s 失败：%s", url, cause.ZH),
			),
			Evidence: []string{obs.Err.Error()},
		}}
	}

	findings := []module.Finding{responseFinding(url, obs, opts)}
	if opts.MaxLatency > 0 {
		findings = append(findings, latencyFinding(url, obs.Latency, opts.MaxLatency))
	}
	if obs.LeafCert != nil {
		findings = append(findings, certFinding(url, *obs.LeafCert, opts.TLS, at))
	}
	return findings
}

// isTimeout reports whether err is a time limit that ran out.
func isTimeout(err error) bool {
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout())
}

func responseFinding(url string, obs httpObservation, opts httpOptions) module.Finding {
	f := module.Finding{
		Check:     httpCheck,
		Item:      url,
		Status:    module.StatusOK,
		Value:     statusText(obs.Status),
		Threshold: statusText(opts.Status),
		Metrics:   map[string]float64{"status": float64(obs.Status), "body_bytes": float64(len(obs.Body))},
		Message: i18n.T(
			fmt.Sprintf("%s answered with status %d", url, obs.Status),
			fmt.Sprintf("%s 返回状态码 %d", url, obs.Status),
		),
	}
	if opts.Contains != "" {
		f.Threshold = joinText(f.Threshold, i18n.T(
			fmt.Sprintf("body contains %q", opts.Contains),
			fmt.Sprintf("页面包含 %q", opts.Contains),
		))
	}

	switch {
	case obs.Status != opts.Status:
		f.Status = module.StatusFail
		f.Message = i18n.T(
			fmt.Sprintf("%s answered with status %d, expected %d", url, obs.Status, opts.Status),
			fmt.Sprintf("%s 返回状态码 %d，应为 %d", url, obs.Status, opts.Status),
		)
	case obs.Err != nil:
		cause := errorText(obs.Err)
		f.Status = module.StatusFail
		f.Message = i18n.T(
			fmt.Sprintf("%s: reading the response failed: %s", url, cause.EN),
			fmt.Sprintf("%s：读取响应失败：%s", url, cause.ZH),
		)
		f.Evidence = []string{obs.Err.Error()}
	case opts.Contains != "" && !bytes.Contains(obs.Body, []byte(opts.Contains)):
		f.Status = module.StatusFail
		f.Value = joinText(f.Value, i18n.T("text missing", "缺少该文本"))
		f.Message = i18n.T(
			fmt.Sprintf("%s answered but the page does not contain %q", url, opts.Contains),
			fmt.Sprintf("%s 有响应，但页面中没有 %q", url, opts.Contains),
		)
	}
	return f
}

func latencyFinding(url string, latency, max time.Duration) module.Finding {
	t := HigherIsWorse(max.Seconds(), Off, "s")
	ms := float64(latency.Milliseconds())
	f := t.Measure(httpCheck, url+" latency", latency.Seconds(), same(latency.Round(time.Millisecond).String()))
	f.ItemTitle = itemTitle(url, "latency", "响应时间")
	f.Metrics = map[string]float64{"latency_ms": ms}
	f.Message = i18n.T(
		fmt.Sprintf("%s took %s to answer (limit %s)", url, latency.Round(time.Millisecond), max),
		fmt.Sprintf("%s 响应耗时 %s（上限 %s）", url, latency.Round(time.Millisecond), max),
	)
	return f
}

func certFinding(url string, leaf tlsLeaf, t Threshold, at time.Time) module.Finding {
	days := math.Floor(leaf.NotAfter.Sub(at).Hours() / 24)
	f := t.Measure(httpCheck, url+" certificate", days, i18n.T(
		fmt.Sprintf("%.0f days left", days),
		fmt.Sprintf("剩余 %.0f 天", days),
	))
	f.ItemTitle = itemTitle(url, "certificate", "证书")
	f.Metrics = map[string]float64{"days_left": days}
	f.Evidence = []string{fmt.Sprintf("subject %s, not after %s", leaf.Subject, formatTime(leaf.NotAfter))}
	if days < 0 {
		f.Value = i18n.T("expired", "已过期")
		f.Message = i18n.T(
			fmt.Sprintf("the certificate of %s expired on %s", url, module.FormatDate(leaf.NotAfter)),
			fmt.Sprintf("%s 的证书已于 %s 过期", url, module.FormatDate(leaf.NotAfter)),
		)
		return f
	}
	en, zh := levelWords(f.Status)
	f.Message = i18n.T(
		fmt.Sprintf("the certificate of %s expires on %s, %.0f days left (%s)", url, module.FormatDate(leaf.NotAfter), days, en),
		fmt.Sprintf("%s 的证书于 %s 到期，剩余 %.0f 天（%s）", url, module.FormatDate(leaf.NotAfter), days, zh),
	)
	return f
}

// daysLeftThreshold judges the days a certificate has left.
func daysLeftThreshold(warn, fail float64) Threshold {
	t := LowerIsWorse(warn, fail, "")
	t.Unit = i18n.T(" days", " 天")
	t.UnitOne = " day"
	return t
}

// statusText names an HTTP status code as a value or threshold.
func statusText(code int) i18n.Text {
	return i18n.T(fmt.Sprintf("status %d", code), fmt.Sprintf("状态码 %d", code))
}
