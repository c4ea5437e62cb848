package bench

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

func TestZZHold(t *testing.T) {
	if os.Getenv("BENCH_HOLD") == "" {
		t.Skip()
	}
	dir := "/tmp/bench-hold"
	os.RemoveAll(dir)
	os.MkdirAll(dir, 0o755)
	c, err := StartCluster(context.Background(), dir, 200)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	w, err := WriteWorkload(dir, c)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(dir+"/floor.sh", []byte(w.FloorScript), 0o644)
	os.WriteFile(dir+"/pids", []byte(fmt.Sprint(c.PIDs())), 0o644)
	os.WriteFile(dir+"/hold", nil, 0o644)
	for {
		if _, err := os.Stat(dir + "/hold"); err != nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}
