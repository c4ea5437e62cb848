package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"patrol/inventory"
)

func (a *app) inventoryCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "inventory",
		Short: a.tr("List the hosts the inventory and --limit select", "列出清单与 --limit 选中的主机"),
		RunE: func(cmd *cobra.Command, args []string) error {
			inv, _, err := a.loadInventory()
			if err != nil {
				return err
			}
			pattern := a.limit
			if pattern == "" {
				pattern = "all"
			}
			hosts, err := inv.Select(pattern)
			if err != nil && a.limit != "" {
				return invalidFlag("--limit", err)
			}
			if err != nil {
				return invalid(err)
			}
			if a.output == "json" {
				return json.NewEncoder(a.stdout).Encode(hosts)
			}
			for _, h := range hosts {
				fmt.Fprintf(a.stdout, "%-24s %-6s %-22s %-10s %-13s %v\n", h.Name, h.Connection, endpoint(h), h.OS, h.System, h.Groups)
			}
			return nil
		},
	}
}

func endpoint(h *inventory.Host) string {
	if h.Connection == inventory.ConnLocal {
		return "-"
	}
	if h.Port == 0 {
		return h.Addr()
	}
	return fmt.Sprintf("%s:%d", h.Addr(), h.Port)
}
