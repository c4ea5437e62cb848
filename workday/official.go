package workday

import (
	"strings"
	"sync"

	"github.com/6tail/lunar-go/HolidayUtil"

	"patrol/i18n"
)

// officialSet is the built-in arrangement: every day a State Council notice
// sets, and the years whose notices it holds.
type officialSet struct {
	days  []Day
	years map[int]bool
}

// officialYears bounds the years searched in the lunar-go data. Its first
// entries are dated 2001-12-29 (make-up days for New Year 2002).
const (
	officialFirstYear = 2001
	officialLastYear  = 2100
)

// officialData reads the lunar-go holiday table once. A year counts as
// covered when some entry belongs to a holiday of that year, because a
// notice is published per year.
var officialData = sync.OnceValue(func() officialSet {
	set := officialSet{years: map[int]bool{}}
	for year := officialFirstYear; year <= officialLastYear; year++ {
		list := HolidayUtil.GetHolidaysByYear(year)
		for e := list.Front(); e != nil; e = e.Next() {
			h := e.Value.(*HolidayUtil.Holiday)
			day, err := ParseDate(h.GetDay())
			if err != nil {
				panic("lunar-go holiday data: " + err.Error())
			}
			target, err := ParseDate(h.GetTarget())
			if err != nil {
				panic("lunar-go holiday data: " + err.Error())
			}
			set.years[target.Year] = true
			set.days = append(set.days, officialDay(day, h.GetName(), h.IsWork()))
		}
	}
	return set
})

// officialDay turns one lunar-go entry into a Day. An entry with work set is a
// day worked in exchange for a holiday.
func officialDay(d Date, name string, work bool) Day {
	day := Day{Date: d, Kind: Holiday, Name: holidayName(name), Source: SourceOfficial}
	if work {
		day.Kind = Workday
		if d.IsWeekend() {
			day.Kind = MakeupWorkday
		}
	}
	return day
}

// holidayNames maps the holiday names of the lunar-go data to the names the
// State Council notices use, with English names.
var holidayNames = map[string]i18n.Text{
	"元旦节":   i18n.T("New Year's Day", "元旦"),
	"春节":    i18n.T("Spring Festival", "春节"),
	"清明节":   i18n.T("Qingming Festival", "清明节"),
	"劳动节":   i18n.T("Labour Day", "劳动节"),
	"端午节":   i18n.T("Dragon Boat Festival", "端午节"),
	"中秋节":   i18n.T("Mid-Autumn Festival", "中秋节"),
	"国庆节":   i18n.T("National Day", "国庆节"),
	"国庆中秋":  i18n.T("National Day and Mid-Autumn Festival", "国庆节、中秋节"),
	"抗战胜利日": i18n.T("70th anniversary of victory in the War of Resistance", "抗战胜利70周年纪念日"),
}

// holidayName returns the bilingual name of a holiday written in either
// language, as lunar-go or a notice writes it, or the name itself in both
// languages when it is not a known holiday.
func holidayName(name string) i18n.Text {
	if t, ok := holidayNames[name]; ok {
		return t
	}
	for _, t := range holidayNames {
		if name == t.ZH || strings.EqualFold(name, t.EN) {
			return t
		}
	}
	return i18n.T(name, name)
}
