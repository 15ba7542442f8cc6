# The two commands the README leads with, and their parts.
.PHONY: demo test test-rust test-kotlin test-swift bindings

demo:
	cargo build --quiet -p auth-server
	cargo run --quiet --example demo

test:
	scripts/test-all.sh

test-rust:
	scripts/test-all.sh rust

test-kotlin:
	scripts/test-all.sh kotlin

test-swift:
	scripts/test-all.sh swift

bindings:
	bindings/generate.sh
