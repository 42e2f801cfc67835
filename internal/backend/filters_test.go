package backend

import "testing"

func TestMatchLabels(t *testing.T) {
	labels := map[string]string{"com.docker.compose.project": "web", "tier": "front", "empty": ""}
	for _, tc := range []struct {
		name   string
		values []string
		want   bool
	}{
		{"no filter", nil, true},
		{"presence", []string{"tier"}, true},
		{"absent key", []string{"nosuch"}, false},
		{"value", []string{"tier=front"}, true},
		{"other value", []string{"tier=back"}, false},
		{"empty value matches only empty", []string{"empty="}, true},
		{"empty value on a set label", []string{"tier="}, false},
		{"all must match", []string{"com.docker.compose.project=web", "tier=front"}, true},
		{"one failing fails all", []string{"com.docker.compose.project=web", "tier=back"}, false},
		{"presence and value", []string{"com.docker.compose.project", "tier=front"}, true},
		{"value containing =", []string{"tier=front=x"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := (Filters{"label": tc.values}).MatchLabels("label", labels); got != tc.want {
				t.Errorf("MatchLabels(%q) = %v, want %v", tc.values, got, tc.want)
			}
		})
	}
	if (Filters{"label": {"a"}}).MatchLabels("label", nil) {
		t.Error("a label filter must not match an object without labels")
	}
}
