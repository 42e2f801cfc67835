package backend

import "strings"

// MatchLabels reports whether labels satisfy every value of the filter key
// (usually "label"), as docker's filters do: the values are AND-ed, "k"
// requires the label to be present and "k=v" requires its value. A key
// without values matches everything. Container, image and network lists
// share this one matcher so that `--filter label=a --filter label=b`
// means the same everywhere (docker-compose 1.29 relies on the AND).
func (f Filters) MatchLabels(key string, labels map[string]string) bool {
	for _, want := range f[key] {
		k, v, hasValue := strings.Cut(want, "=")
		got, ok := labels[k]
		if !ok || (hasValue && got != v) {
			return false
		}
	}
	return true
}

// MatchPruneLabels applies the prunes' label filters as docker does: every
// "label" value must match, and no "label!" value may ("label!=k" excludes
// what has the label k, "label!=k=v" what has it with value v).
func (f Filters) MatchPruneLabels(labels map[string]string) bool {
	if !f.MatchLabels("label", labels) {
		return false
	}
	for _, not := range f["label!"] {
		if (Filters{"label": {not}}).MatchLabels("label", labels) {
			return false
		}
	}
	return true
}
