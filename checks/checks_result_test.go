package checks

import (
	"testing"

	"patrol/module"
)

func TestResultMessageBilingual(t *testing.T) {
	res := result([]module.Finding{{Status: module.StatusOK}, {Status: module.StatusFail}})

	if res.Msg != "2 findings, worst fail" || res.Message.EN != res.Msg {
		t.Errorf("Msg = %q, Message.EN = %q", res.Msg, res.Message.EN)
	}
	if res.Message.ZH != "2 项结果，最差为不合格" {
		t.Errorf("Message.ZH = %q", res.Message.ZH)
	}
	if !res.Failed {
		t.Error("a failing finding must fail the result")
	}
}
