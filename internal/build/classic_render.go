package build

import (
	"encoding/json"
	"io"
	"strings"

	"github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"
)

// classicRenderer turns BuildKit's progress into the stream docker's
// classic builder writes, so that clients of the classic POST /build (the
// docker CLI without BuildKit, docker-compose 1.x, the Python SDK) show
// what they always showed:
//
//	Step 2/4 : RUN make
//	 ---> Running in 1d2f3a4b5c6d
//	<the RUN's output>
//	 ---> 1d2f3a4b5c6d
//
// BuildKit has no intermediate containers or images: the ids shown are
// those of the step's vertex, and a cached step says " ---> Using cache";
// as dockerd's, the FROM of a local image shows the image's id, that of an
// earlier stage the stage's last result, the last step the built image's.
// Steps that make no vertex (ENV, LABEL, CMD...) show no result.
// BuildKit runs independent stages at once and skips the stages the target
// does not need; steps are opened in order up to the one a vertex belongs
// to, so every step is printed once, and the output of stages that run in
// parallel interleaves.
type classicRenderer struct {
	plan *classicPlan
	msgs *messageWriter
	next int // the first step not printed yet

	vertices map[digest.Digest]*vertexState
	steps    map[int]*stepState
	// results are the last ids shown as a stage's results, which a FROM
	// of that stage shows as its own.
	results map[*planStage]digest.Digest

	// imageID gives the id of the local image a FROM's vertex resolved
	// (its manifest's digest is in the vertex's name), which the classic
	// builder shows as the FROM's result; nil, or false, shows the
	// vertex's.
	imageID func(manifest digest.Digest) (digest.Digest, bool)
}

// vertexState is what the renderer knows of one vertex.
type vertexState struct {
	step   int // -1: no step (an internal vertex)
	name   string
	err    string
	opened bool // its step is printed (without a plan)
}

// stepState is what has been printed of one step.
type stepState struct {
	running, cached, done bool
}

func newClassicRenderer(plan *classicPlan, msgs *messageWriter) *classicRenderer {
	return &classicRenderer{
		plan:     plan,
		msgs:     msgs,
		vertices: make(map[digest.Digest]*vertexState),
		steps:    make(map[int]*stepState),
		results:  make(map[*planStage]digest.Digest),
	}
}

// shortID is a digest's first 12 hex digits, as docker shortens ids.
func shortID(d digest.Digest) string {
	h := d.Encoded()
	if len(h) > 12 {
		h = h[:12]
	}
	return h
}

// handle renders one progress update.
func (r *classicRenderer) handle(ss *client.SolveStatus) error {
	for _, v := range ss.Vertexes {
		vs := r.vertex(v.Digest, v.Name)
		if v.Error != "" {
			vs.err = v.Error
		}
		if r.plan == nil {
			if err := r.unplanned(vs, v); err != nil {
				return err
			}
			continue
		}
		if vs.step < 0 || (v.Started == nil && v.Completed == nil && !v.Cached) {
			continue
		}
		if err := r.open(vs.step); err != nil {
			return err
		}
		st := r.step(vs.step)
		switch {
		case v.Cached && !st.cached && !st.running && r.plan.steps[vs.step].keyword != "FROM":
			st.cached = true
			if err := r.msgs.stream(" ---> Using cache\n"); err != nil {
				return err
			}
		case !v.Cached && v.Completed == nil && !st.running && !st.done && r.plan.steps[vs.step].keyword == "RUN":
			st.running = true
			if err := r.msgs.stream(" ---> Running in " + shortID(v.Digest) + "\n"); err != nil {
				return err
			}
		}
		// The last step's result is the image, which finish prints: as
		// dockerd's, the id under the last step is the one built.
		if v.Completed != nil && v.Error == "" && !st.done {
			st.done = true
			if vs.step != len(r.plan.steps)-1 {
				id := r.result(vs.step, v)
				r.results[r.plan.steps[vs.step].stage] = id
				if err := r.msgs.stream(" ---> " + shortID(id) + "\n"); err != nil {
					return err
				}
			}
		}
	}
	for _, l := range ss.Logs {
		vs := r.vertices[l.Vertex]
		if vs != nil && vs.step >= 0 {
			if err := r.open(vs.step); err != nil {
				return err
			}
		}
		text := string(l.Data)
		if l.Stream == 2 {
			// As the classic builder's stderr writer: red.
			text = "\033[91m" + text + "\033[0m"
		}
		if err := r.msgs.stream(text); err != nil {
			return err
		}
	}
	return nil
}

// result is the id shown as a step's result: the vertex's, or for the
// FROM of a local image, the image's.
func (r *classicRenderer) result(step int, v *client.Vertex) digest.Digest {
	if r.imageID == nil || r.plan.steps[step].keyword != "FROM" {
		return v.Digest
	}
	m := vertexName.FindStringSubmatch(v.Name)
	if m == nil {
		return v.Digest
	}
	_, dgst, ok := strings.Cut(m[4], "@")
	if !ok {
		return v.Digest
	}
	manifest, err := digest.Parse(dgst)
	if err != nil {
		return v.Digest
	}
	if id, ok := r.imageID(manifest); ok {
		return id
	}
	return v.Digest
}

// unplanned renders a vertex of a build whose Dockerfile the renderer
// does not have (a Git or URL context): its steps as BuildKit numbers
// them per stage.
func (r *classicRenderer) unplanned(vs *vertexState, v *client.Vertex) error {
	if vs.opened || v.Started == nil {
		return nil
	}
	m := vertexName.FindStringSubmatch(v.Name)
	if m == nil {
		return nil
	}
	vs.opened = true
	return r.msgs.stream("Step " + m[2] + "/" + m[3] + " : " + m[4] + "\n")
}

// vertex returns the state of a vertex, mapping it to its step when first
// seen.
func (r *classicRenderer) vertex(d digest.Digest, name string) *vertexState {
	vs := r.vertices[d]
	if vs == nil {
		vs = &vertexState{step: -1, name: name}
		if r.plan != nil {
			vs.step = r.plan.stepOf(name)
		}
		r.vertices[d] = vs
	}
	return vs
}

func (r *classicRenderer) step(i int) *stepState {
	st := r.steps[i]
	if st == nil {
		st = &stepState{}
		r.steps[i] = st
	}
	return st
}

// open prints the headers of the steps up to step, and the results of
// the FROMs no vertex gives, as dockerd's: " ---> " with no id for
// scratch, the last result of the stage built on (if shown yet).
func (r *classicRenderer) open(step int) error {
	for ; r.next <= step; r.next++ {
		if err := r.msgs.stream(r.plan.header(r.next)); err != nil {
			return err
		}
		if r.next == len(r.plan.steps)-1 {
			continue // finish shows the image
		}
		st := r.plan.steps[r.next]
		var result string
		switch id, ok := r.results[st.base]; {
		case st.scratch:
			result = " ---> \n"
		case st.base != nil && ok:
			r.results[st.stage] = id
			result = " ---> " + shortID(id) + "\n"
		}
		if err := r.msgs.stream(result); err != nil {
			return err
		}
	}
	return nil
}

// start opens the steps up to the first FROM, as the classic builder
// prints them before it fetches the base image.
func (r *classicRenderer) start() error {
	if r.plan == nil {
		return nil
	}
	first := len(r.plan.steps) - 1
	for _, st := range r.plan.stages {
		first = min(first, st.from)
	}
	return r.open(first)
}

// finish prints the steps left (those of no vertex: CMD, LABEL...) and the
// image id as the last step's result.
func (r *classicRenderer) finish(imageID digest.Digest) error {
	if r.plan == nil {
		return nil
	}
	if err := r.open(len(r.plan.steps) - 1); err != nil {
		return err
	}
	if imageID == "" {
		return nil
	}
	return r.msgs.stream(" ---> " + shortID(imageID) + "\n")
}

// failedStep returns the step of the vertex that failed (d, or the one
// whose progress carried an error), -1 if none is known.
func (r *classicRenderer) failedStep(d digest.Digest) int {
	if vs := r.vertices[d]; vs != nil {
		return vs.step
	}
	for _, vs := range r.vertices {
		if vs.err != "" && vs.step >= 0 {
			return vs.step
		}
	}
	return -1
}

// messageWriter writes docker's JSON messages, one a line.
type messageWriter struct {
	enc *json.Encoder
}

func newMessageWriter(w io.Writer) *messageWriter {
	return &messageWriter{enc: json.NewEncoder(w)}
}

// jsonMessage is the subset of docker's JSON message a build writes.
type jsonMessage struct {
	Stream string `json:"stream,omitempty"`
	ID     string `json:"id,omitempty"`
	Aux    any    `json:"aux,omitempty"`
}

func (m *messageWriter) stream(s string) error {
	if s == "" {
		return nil
	}
	return m.enc.Encode(&jsonMessage{Stream: s})
}

func (m *messageWriter) aux(id string, v any) error {
	return m.enc.Encode(&jsonMessage{ID: id, Aux: v})
}
