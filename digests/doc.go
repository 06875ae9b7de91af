// Package digests owns a digest: the articles it carries, chosen since the
// previous digest's cutoff; the audience it goes to, frozen when it is
// created; the plan that splits that audience into batches; its rendered
// body with the personal parts left as placeholders; and its progress.
package digests
