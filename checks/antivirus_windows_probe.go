package checks

import (
	"context"
	"fmt"

	"patrol/i18n"
	"patrol/module"
)

func init() {
	antivirusProbes.Windows = probeAntivirusWindows
}

// winSignatureFileScript prints the host clock and the LastWriteTime of
// $path, or of the newest file under it when it is a directory. $path is
// prepended by the probe.
const winSignatureFileScript = psISODate + `"Now=$(Iso (Get-Date))"
"UtcOffset=$([TimeZoneInfo]::Local.GetUtcOffset((Get-Date)).ToString())"
if (-not (Test-Path -LiteralPath $path)) { 'Found=False'; return }
$item = Get-Item -LiteralPath $path -Force
if ($item.PSIsContainer) { $item = Get-ChildItem -LiteralPath $path -Recurse -Force | Where-Object { -not $_.PSIsContainer } | Sort-Object LastWriteTimeUtc -Descending | Select-Object -First 1 }
if (-not $item) { 'Found=False'; return }
'Found=True'
"File=$($item.FullName)"
"LastWriteTime=$(Iso $item.LastWriteTimeUtc)"
`

// winSignatureRegistryScript prints the host clock, its UTC offset (for date
// strings without one) and the raw value $name under $key with its registry
// type. Binary values are printed as hex, numbers as unsigned decimals.
const winSignatureRegistryScript = psISODate + `"Now=$(Iso (Get-Date))"
"UtcOffset=$([TimeZoneInfo]::Local.GetUtcOffset((Get-Date)).ToString())"
if (-not (Test-Path -LiteralPath $key)) { 'Found=False'; return }
$k = Get-Item -LiteralPath $key
$v = $k.GetValue($name, $null, 'DoNotExpandEnvironmentNames')
if ($v -eq $null) { 'Found=False'; return }
$kind = "$($k.GetValueKind($name))"
switch ($kind) {
  'Binary' { $v = ($v | ForEach-Object { $_.ToString('x2') }) -join '' }
  'DWord' { $v = [BitConverter]::ToUInt32([BitConverter]::GetBytes([int32]$v), 0) }
  'QWord' { $v = [BitConverter]::ToUInt64([BitConverter]::GetBytes([int64]$v), 0) }
  'MultiString' { $v = @($v)[0] }
}
'Found=True'
"ValueKind=$kind"
"Value=$(([string]$v) -replace '[\r\n]', ' ')"
`

// winDefenderScript prints the host clock and Windows Defender's signature
// status as one Format-List record with the property names of
// Get-MpComputerStatus, AntivirusSignatureLastUpdated as UTC ISO 8601. Found
// is False where the cmdlet is missing, as on Windows Server 2012 R2.
const winDefenderScript = psISODate + `$now = Iso (Get-Date)
if (-not (Get-Command Get-MpComputerStatus -ErrorAction SilentlyContinue)) {
  New-Object PSObject -Property @{ Now = $now; Found = $false } | Format-List Now, Found | Out-String -Width 4096
  return
}
Get-MpComputerStatus | Select-Object @{Name = 'Now'; Expression = { $now }}, @{Name = 'Found'; Expression = { $true }},
  AMServiceEnabled, AntivirusEnabled, AntivirusSignatureAge,
  @{Name = 'AntivirusSignatureLastUpdated'; Expression = { Iso $_.AntivirusSignatureLastUpdated }}, AntivirusSignatureVersion |
  Format-List | Out-String -Width 4096
`

// antivirusScript returns the probe script for src.
func antivirusScript(src SignatureSource) string {
	if src.Defender {
		return psPrelude + winDefenderScript
	}
	if src.Path != "" {
		return psPrelude + "$path = " + psQuote(src.Path) + "\n" + winSignatureFileScript
	}
	return psPrelude + "$key = " + psQuote(src.Key) + "\n$name = " + psQuote(src.Value) + "\n" + winSignatureRegistryScript
}

func probeAntivirusWindows(ctx context.Context, env *module.Env, src SignatureSource) (Signature, *module.Finding) {
	what := "Get-Item " + src.Item()
	if src.Defender {
		what = "Get-MpComputerStatus"
	}
	out, err := runScript(ctx, env, antivirusScript(src))
	if err != nil || out.ExitCode != 0 {
		f := probeFailed(antivirusCheck, src.Item(), what, out, err)
		return Signature{}, &f
	}
	parse := ParseSignatureProbe
	if src.Defender {
		parse = func(out []byte) (Signature, error) { return ParseDefenderStatus(out, "") }
	}
	sig, perr := parse(out.Stdout)
	if perr != nil {
		f := errorFinding(antivirusCheck, src.Item(), i18n.T(
			fmt.Sprintf("the antivirus probe output is unreadable: %v", perr),
			"杀毒软件病毒库探测输出无法读取，解析错误见证据",
		), parseEvidence(perr, out))
		return Signature{}, &f
	}
	return sig, nil
}
