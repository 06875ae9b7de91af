package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// A command is one thing the binary does, as its help shows it.
type command struct {
	name    string                 // the words that run it: "digest send"
	args    string                 // its positional arguments, for the usage line
	summary string                 // one line
	flags   func(fs *flag.FlagSet) // declares its flags on fs; nil when it has none
}

// commands lists every command, in the order the help shows them. The
// flags are declared by the same functions the commands parse with.
var commands = []command{
	{"run", "", "the HTTP API and pages, the worker and the scheduler in one process (the default)", nil},
	{"serve", "", "the HTTP API and pages only", nil},
	{"worker", "", "the worker and the scheduler only: they send the email", nil},
	{"inbound", "", "the inbound SMTP listener only: bounces, complaints and mailto unsubscribes (NEWSLETTER_INBOUND_ADDR, NEWSLETTER_BOUNCE_ADDRESS)", nil},
	{"digest send", "NEWSLETTER", "create a digest of the articles since the previous one and send it to every confirmed subscriber",
		func(fs *flag.FlagSet) { digestFlags(fs, "send") }},
	{"digest status", "ID", "show a digest's status, counts and last sending error",
		func(fs *flag.FlagSet) { digestFlags(fs, "status") }},
	{"subscribers import", "FILE.csv", "import subscribers from a CSV file with an email column (and name, newsletters, status); sends no email",
		func(fs *flag.FlagSet) { subscribersFlags(fs, "import") }},
	{"subscribers export", "", "write every subscriber to stdout, as CSV or JSON Lines",
		func(fs *flag.FlagSet) { subscribersFlags(fs, "export") }},
	{"healthcheck", "", "exit 0 when the HTTP server on this machine (the port of NEWSLETTER_HTTP_ADDR) answers /healthz", nil},
	{"help", "[COMMAND]", "show this help, or a command's", nil},
}

const usageFooter = `Run "newsletter COMMAND --help" for a command's flags. Configuration comes
from NEWSLETTER_* environment variables: see README.md.
`

// helpTopic reports whether args ask for help (help, -h, -help or --help
// before any "--"), and for which command: the longest run of leading
// words that names a command or a group ("digest"), "" for the program.
func helpTopic(args []string) (topic string, ok bool) {
	if len(args) > 0 && args[0] == "help" {
		args, ok = args[1:], true
	}
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			ok = true
		}
	}
	if !ok {
		return "", false
	}
	var words []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			break
		}
		words = append(words, a)
	}
	for n := len(words); n > 0; n-- {
		if t := strings.Join(words[:n], " "); len(commandsUnder(t)) > 0 {
			return t, true
		}
	}
	if len(words) > 0 {
		return words[0], true // unknown: help says so
	}
	return "", true
}

// commandsUnder returns the commands that topic names: one command, or
// every command of a group.
func commandsUnder(topic string) []command {
	var out []command
	for _, c := range commands {
		if c.name == topic || strings.HasPrefix(c.name, topic+" ") {
			out = append(out, c)
		}
	}
	return out
}

// help prints the help of topic to stdout and returns 0, or says on stderr
// that there is no such command and returns 2.
func help(topic string, stdout, stderr io.Writer) int {
	if topic == "" {
		printUsage(stdout)
		return 0
	}
	if len(commandsUnder(topic)) == 0 {
		return unknownCommand(topic, stderr)
	}
	printCommands(stdout, topic)
	fmt.Fprintln(stdout, "\nConfiguration comes from NEWSLETTER_* environment variables: see README.md.")
	return 0
}

// unknownCommand says that name is no command, shows the usage on stderr
// and returns the exit code 2.
func unknownCommand(name string, stderr io.Writer) int {
	fmt.Fprintf(stderr, "newsletter: unknown command %q\n\n", name)
	printUsage(stderr)
	return 2
}

// usageError says what is wrong with a command's arguments, shows the
// command's usage on stderr and returns the exit code 2.
func usageError(stderr io.Writer, topic, format string, args ...any) int {
	fmt.Fprintf(stderr, "newsletter: "+format+"\n\n", args...)
	printCommands(stderr, topic)
	return 2
}

// printCommands prints the usage of every command under topic, a blank
// line between two.
func printCommands(w io.Writer, topic string) {
	for i, c := range commandsUnder(topic) {
		if i > 0 {
			fmt.Fprintln(w)
		}
		printCommand(w, c)
	}
}

// printUsage prints the program's usage: every command, one line each.
func printUsage(w io.Writer) {
	fmt.Fprintf(w, "usage: newsletter [COMMAND] [ARGUMENTS] [FLAGS]\n\ncommands:\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s\t%s\n", strings.TrimSpace(c.name+" "+c.args), c.summary)
	}
	tw.Flush()
	fmt.Fprintf(w, "\n%s", usageFooter)
}

// printCommand prints one command's usage line, summary and flags.
func printCommand(w io.Writer, c command) {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	if c.flags != nil {
		c.flags(fs)
	}
	line := strings.TrimSpace("newsletter " + c.name + " " + c.args)
	if c.flags != nil {
		line += " [FLAGS]"
	}
	fmt.Fprintf(w, "usage: %s\n  %s\n", line, c.summary)
	if c.flags == nil {
		return
	}
	fmt.Fprintln(w, "\nflags:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fs.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		if def := f.DefValue; def != "" && def != "false" && def != "0" {
			usage += " (default " + def + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s\n", strings.TrimSpace("--"+f.Name+" "+arg), usage)
	})
	tw.Flush()
}

// newFlagSet returns the flag set of command name, which reports its
// errors on stderr followed by the command's usage.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr)
		printCommands(stderr, name)
	}
	return fs
}

// parseArgs parses args with fs, flags and positional arguments in any
// order (a "--" ends the flags), and returns the positional ones.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// isVerb reports whether args start with one of verbs.
func isVerb(args []string, verbs ...string) bool {
	return len(args) > 0 && slices.Contains(verbs, args[0])
}
