// Command patrol runs YAML playbooks over SSH, WinRM or locally against an
// inventory, and writes inspection reports. This package only parses flags, wires
// the packages together and maps outcomes to exit codes.
package main

import "os"

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:]))
}
