// Package typo measures how far a mistyped name is from the valid ones, for
// the "did you mean" hints of inventory and playbook errors.
package typo

import "strings"

// Distance returns the optimal string alignment distance between a and b in
// runes: the Levenshtein distance with a swap of two neighbouring runes counted
// as one edit, because "sael" for "seal" is one slip of the fingers, not two.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// Closest returns the candidate closest to word, ignoring case, or "" when none
// is close enough to be a likely typo. The limit grows with the word: one edit
// for short words, up to a third of the length for long ones.
func Closest(word string, candidates []string) string {
	best, bestDist := "", -1
	lower := strings.ToLower(word)
	for _, c := range candidates {
		d := Distance(lower, strings.ToLower(c))
		if bestDist < 0 || d < bestDist || d == bestDist && c < best {
			best, bestDist = c, d
		}
	}
	limit := max(1, len([]rune(word))/3)
	if bestDist < 0 || bestDist > limit || best == word {
		return ""
	}
	return best
}
