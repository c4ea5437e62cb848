package module

import (
	"time"
	_ "time/tzdata" // Asia/Shanghai loads even where the OS has no zone files (Windows)
)

// TimeZone is the IANA zone in which findings show times to people: the
// client's zone, China Standard Time. Reports show their own times in it by
// default too, and state its offset in their header.
const TimeZone = "Asia/Shanghai"

// displayZone is TimeZone, loaded once.
var displayZone = func() *time.Location {
	loc, err := time.LoadLocation(TimeZone)
	if err != nil {
		// time/tzdata is linked in, so this is only a guard.
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

// FormatTime formats t for a finding's value, message or evidence, in
// TimeZone and without a zone suffix: "2020-06-01 08:59:20". Checks keep
// time.Time values until here, so every time a report shows is in one zone.
func FormatTime(t time.Time) string {
	return t.In(displayZone).Format("2006-01-02 15:04:05")
}

// FormatDate formats the calendar day of t in TimeZone: "2020-06-01".
func FormatDate(t time.Time) string {
	return t.In(displayZone).Format("2006-01-02")
}
