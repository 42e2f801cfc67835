package build

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// classicPlan numbers a Dockerfile's instructions as docker's classic
// builder prints them ("Step 3/7 : RUN make"), and maps the names BuildKit's
// dockerfile frontend gives its vertices ("[build 2/4] RUN make") back to
// those steps.
//
// The classic builder counts every instruction: the ARGs before the first
// FROM, each stage's FROM and commands (stages after --target dropped), and
// a LABEL per --label, added to the last stage. BuildKit numbers, per
// stage, only the instructions that make a vertex: the FROM of an image
// (not scratch, not another stage), RUN, COPY, ADD and WORKDIR, after the
// ONBUILD triggers of the base image.
type classicPlan struct {
	steps  []planStep
	stages map[string]*planStage // by the stage name in BuildKit's vertex names
}

// planStep is one instruction as the classic builder prints it.
type planStep struct {
	text    string // "RUN make", as written in the Dockerfile
	keyword string // "RUN"
	// runCmd is a RUN's command as the classic builder names it when it
	// fails: "/bin/sh -c make" (the stage's SHELL and the shell form's
	// line, or the exec form's arguments).
	runCmd string
	// scratch marks a FROM scratch, whose result the classic builder
	// prints as an empty id.
	scratch bool
	// stage is the stage of the step; base, the earlier stage a FROM
	// builds on, whose result the classic builder prints as the FROM's.
	stage, base *planStage
}

// planStage is one build stage's steps.
type planStage struct {
	from int   // the FROM's step
	cmds []int // the steps that make a vertex, in order
}

// defaultDockerfile is the Dockerfile's name when the request names none.
const defaultDockerfile = "Dockerfile"

// newClassicPlan parses the Dockerfile as dockerd's classic builder does,
// with its messages (a 400 for a parse error).
func newClassicPlan(name string, dockerfile []byte, target string, labels map[string]string) (*classicPlan, error) {
	if len(dockerfile) == 0 {
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("the Dockerfile (%s) cannot be empty", name))
	}
	res, err := parser.Parse(bytes.NewReader(dockerfile))
	if err != nil {
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("failed to parse %s: %v", name, err))
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	if len(stages) == 0 {
		return nil, errdefs.ErrInvalidArgument.WithMessage("No image was generated. Is your Dockerfile empty?")
	}
	all := len(stages)
	if target != "" {
		i, ok := instructions.HasStage(stages, target)
		if !ok {
			// dockerd's classic builder's words (BuildKit's, which the
			// frontend would give, are `target stage "x" could not be
			// found`): compose v5 and docker-compose 1.29 print them.
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("failed to reach build target %s in Dockerfile", target))
		}
		stages = stages[:i+1]
	}

	p := &classicPlan{stages: make(map[string]*planStage)}
	for i := range metaArgs {
		p.add(fmt.Sprint(&metaArgs[i]))
	}
	byName := map[string]*planStage{} // the stages so far, by name and index
	for i, st := range stages {
		ps := &planStage{from: p.add(st.SourceCode)}
		p.steps[ps.from].stage = ps
		p.steps[ps.from].scratch = st.BaseName == "scratch"
		p.steps[ps.from].base = byName[strings.ToLower(st.BaseName)]
		byName[strconv.Itoa(i)] = ps
		if st.Name != "" {
			byName[st.Name] = ps
		}
		shell := []string{"/bin/sh", "-c"}
		for _, cmd := range st.Commands {
			step := p.add(fmt.Sprint(cmd))
			p.steps[step].stage = ps
			switch c := cmd.(type) {
			case *instructions.ShellCommand:
				shell = c.Shell
			case *instructions.RunCommand:
				args := c.CmdLine
				if c.PrependShell {
					args = append(append([]string{}, shell...), strings.Join(c.CmdLine, " "))
				}
				p.steps[step].runCmd = strings.Join(args, " ")
			}
			switch cmd.(type) {
			case *instructions.RunCommand, *instructions.CopyCommand, *instructions.AddCommand, *instructions.WorkdirCommand:
				ps.cmds = append(ps.cmds, step)
			}
		}
		// As the frontend names its stages: AS's name (lowercased by the
		// parser), else stage-<index>; a Dockerfile of one stage has no
		// name, but one that COPYs --from an image has two states, so
		// stage-0 stays in use then.
		if st.Name != "" {
			p.stages[st.Name] = ps
		} else {
			p.stages["stage-"+strconv.Itoa(i)] = ps
		}
		if all == 1 {
			p.stages[""] = ps
		}
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p.add(fmt.Sprint(instructions.NewLabelCommand(k, labels[k], true)))
	}
	return p, nil
}

// add appends a step and returns its index.
func (p *classicPlan) add(text string) int {
	text = strings.TrimSpace(text)
	kw, _, _ := strings.Cut(text, " ")
	p.steps = append(p.steps, planStep{text: text, keyword: strings.ToUpper(kw)})
	return len(p.steps) - 1
}

// vertexName matches the frontend's names of a stage's vertices:
// "[stage-1 2/5] RUN make", "[ 3/12] COPY . /src", with an optional
// platform ahead of the stage name when several are built.
var vertexName = regexp.MustCompile(`^\[(?:(\S+) )?\s*(\d+)/(\d+)\] (.*)$`)

// stepOf returns the step a vertex's name belongs to, or -1 for the
// vertices of no instruction ("[internal] load build context", "exporting
// to image").
func (p *classicPlan) stepOf(name string) int {
	m := vertexName.FindStringSubmatch(name)
	if m == nil {
		return -1
	}
	st, ok := p.stages[m[1]]
	if !ok {
		return -1
	}
	k, _ := strconv.Atoi(m[2])
	n, _ := strconv.Atoi(m[3])
	// The first vertices are the FROM and the base image's ONBUILD
	// triggers, all shown under the FROM step.
	offset := n - len(st.cmds)
	if k <= offset {
		return st.from
	}
	i := k - offset - 1
	if i >= len(st.cmds) {
		return -1
	}
	step := st.cmds[i]
	kw, _, _ := strings.Cut(m[4], " ")
	if kw == "LINK" { // COPY --link's merge: "[2/3] LINK COPY a /"
		kw, _, _ = strings.Cut(strings.TrimPrefix(m[4], "LINK "), " ")
	}
	if kw != p.steps[step].keyword {
		return -1
	}
	return step
}

// header is the classic line that opens a step.
func (p *classicPlan) header(step int) string {
	return fmt.Sprintf("Step %d/%d : %s\n", step+1, len(p.steps), p.steps[step].text)
}
