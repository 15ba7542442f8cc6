// The C target only carries the generated header; the symbols come from librefreshkit.
