package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/image"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// allVersions are the API versions berthd serves, 1.24 to 1.56.
func allVersions() []string {
	var vs []string
	for minor := 24; minor <= 56; minor++ {
		vs = append(vs, fmt.Sprintf("1.%d", minor))
	}
	return vs
}

// encodeObject marshals v and decodes it as a generic JSON object.
func encodeObject(t *testing.T, v any) map[string]any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := json.Unmarshal(data, &obj); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	return obj
}

func below(v, than string) bool { return compareVersions(v, than) < 0 }

func TestImageInspectForVersion(t *testing.T) {
	img := &image.InspectResponse{
		ID:         "sha256:abc",
		Size:       1234,
		Config:     &dockerspec.DockerOCIImageConfig{ImageConfig: ocispec.ImageConfig{Cmd: []string{"sh"}, Env: []string{"PATH=/bin"}, Volumes: map[string]struct{}{"/data": {}}}},
		Descriptor: &ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: "sha256:def", Size: 1},
		Identity:   &image.Identity{},
	}
	for _, v := range allVersions() {
		t.Run(v, func(t *testing.T) {
			got := encodeObject(t, imageInspectForVersion(img, v))
			has := func(key string) bool { _, ok := got[key]; return ok }
			for key, want := range map[string]bool{
				"VirtualSize":     below(v, "1.44"), // removed in 1.44
				"Container":       below(v, "1.45"), // removed in 1.45
				"ContainerConfig": below(v, "1.45"),
				"Parent":          below(v, "1.52"), // omitempty since 1.52
				"DockerVersion":   below(v, "1.52"),
				"Author":          below(v, "1.52"),
				"Comment":         below(v, "1.52"),
				"Created":         below(v, "1.44"),  // omitted when unknown since 1.44
				"Descriptor":      !below(v, "1.48"), // added in 1.48
				"Identity":        !below(v, "1.53"), // added in 1.53
				"Id":              true,
				"RepoTags":        true,
				"Size":            true,
			} {
				if has(key) != want {
					t.Errorf("%s present = %v, want %v", key, has(key), want)
				}
			}
			if below(v, "1.44") {
				if got["VirtualSize"] != float64(1234) || got["Created"] != "0001-01-01T00:00:00Z" {
					t.Errorf("VirtualSize %v, Created %v", got["VirtualSize"], got["Created"])
				}
			}
			if below(v, "1.45") {
				cc, ok := got["ContainerConfig"].(map[string]any)
				if !ok || cc == nil {
					t.Fatalf("ContainerConfig = %#v, want an object (docker-compose 1.29 reads its Volumes)", got["ContainerConfig"])
				}
				if vols, _ := cc["Volumes"].(map[string]any); len(vols) != 1 || vols["/data"] == nil {
					t.Errorf("ContainerConfig.Volumes = %#v, want the image's {\"/data\": {}}", cc["Volumes"])
				}
			}
			cfg := got["Config"].(map[string]any)
			cfgHas := func(key string) bool { _, ok := cfg[key]; return ok }
			for key, want := range map[string]bool{
				"Hostname":   below(v, "1.50"), // container-only fields dropped in 1.50
				"Tty":        below(v, "1.50"),
				"WorkingDir": below(v, "1.52"), // omitempty since 1.52
				"Labels":     below(v, "1.52"),
				"Cmd":        true,
				"Env":        true,
			} {
				if cfgHas(key) != want {
					t.Errorf("Config.%s present = %v, want %v", key, cfgHas(key), want)
				}
			}
			if cmd, _ := cfg["Cmd"].([]any); len(cmd) != 1 || cmd[0] != "sh" {
				t.Errorf("Config.Cmd = %v: a legacy default overwrote the image's value", cfg["Cmd"])
			}
		})
	}
}

func TestImageListForVersion(t *testing.T) {
	list := []image.Summary{
		{ID: "sha256:tagged", RepoTags: []string{"a:1"}, RepoDigests: []string{}, Size: 10, Containers: 2,
			Descriptor: &ocispec.Descriptor{Digest: "sha256:x"}, Manifests: []image.ManifestSummary{{ID: "sha256:m"}}},
		{ID: "sha256:dangling", Size: 20, Containers: 0},
	}
	for _, v := range allVersions() {
		t.Run(v, func(t *testing.T) {
			data, err := json.Marshal(imageListForVersion(list, v))
			if err != nil {
				t.Fatal(err)
			}
			var got []map[string]any
			if err := json.Unmarshal(data, &got); err != nil || len(got) != 2 {
				t.Fatalf("%s: %v", data, err)
			}
			tagged, dangling := got[0], got[1]
			if _, ok := tagged["VirtualSize"]; ok != below(v, "1.44") {
				t.Errorf("VirtualSize present = %v", ok)
			}
			if _, ok := tagged["Descriptor"]; ok != !below(v, "1.48") {
				t.Errorf("Descriptor present = %v", ok)
			}
			if _, ok := tagged["Manifests"]; ok != !below(v, "1.47") {
				t.Errorf("Manifests present = %v", ok)
			}
			wantContainers := float64(2)
			if below(v, "1.51") {
				wantContainers = -1
			}
			if tagged["Containers"] != wantContainers {
				t.Errorf("Containers = %v, want %v", tagged["Containers"], wantContainers)
			}
			tags := fmt.Sprint(dangling["RepoTags"], dangling["RepoDigests"])
			want := "[] []"
			if below(v, "1.43") {
				want = "[<none>:<none>] [<none>@<none>]"
			}
			if tags != want {
				t.Errorf("untagged image's RepoTags, RepoDigests = %s, want %s", tags, want)
			}
		})
	}
	if list[1].RepoTags != nil || list[0].Containers != 2 {
		t.Error("imageListForVersion changed its input")
	}
}

func TestImageInspectLegacyOverHTTP(t *testing.T) {
	env := newTestEnv(t)
	env.fake.addImage("legacy:v1")
	for _, tc := range []struct {
		path, agent string
		want        bool
	}{
		{"/v1.41/images/legacy:v1/json", "", true},
		{"/v1.45/images/legacy:v1/json", "", false},
		{"/v1.45/images/legacy:v1/json", "docker-sdk-python/7.1.0", false},
		// docker-compose 1.29 asks for the server's version and reads
		// ContainerConfig when it re-creates a container
		{"/v1.56/images/legacy:v1/json", "docker-compose/1.29.2 docker-py/5.0.3 Linux/6.1.0", true},
	} {
		path, want := tc.path, tc.want
		req, err := http.NewRequest("GET", "http://docker"+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("User-Agent", tc.agent)
		resp, err := env.httpClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
			t.Fatal(err)
		}
		if _, ok := got["ContainerConfig"]; ok != want {
			t.Errorf("%s (%q): ContainerConfig present = %v, want %v", path, tc.agent, ok, want)
		}
	}
}
