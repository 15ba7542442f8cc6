#!/usr/bin/env bash
# Changes (and one check) to UniFFI 0.32's generated Swift, so Swift users get one API that follows
# the Swift API Design Guidelines and honours Task cancellation:
#   - error cases in lowerCamelCase (`.network`), like every other enum's cases; UniFFI
#     keeps Rust's UpperCamelCase for error variants only;
#   - (a check, no edit) no `…Blocking` method reaches Swift: uniffi.toml's
#     `[bindings.swift] exclude` leaves out the Rust `…_blocking` forms, which are for
#     OkHttp's threads; a new one that is not excluded stops the build here;
#   - every async call cancels its Rust future when the calling Task is cancelled and
#     throws CancellationError; UniFFI's Swift never cancels it (a cancelled `execute`
#     was still sent once the refresh it waited for completed; Kotlin already cancels).
# Each change must apply exactly where expected, or this fails: a UniFFI upgrade that
# moves the code it edits stops the build here instead of silently dropping the change.
set -euo pipefail
for file in "$@"; do
  perl -0 - "$file" <<'PERL'
use strict;
use warnings;
my $path = $ARGV[0];
local $/;
open my $in, '<', $path or die "$path: $!";
my $s = <$in>;
close $in;
sub expect { my ($what, $got, $want) = @_; die "swift-idioms: $what: $got edits, expected $want\n" unless $got == $want; }

# Error cases: Rust's variant names, declared in `enum X: Swift.Error` blocks.
my %lower;
while ($s =~ /^public\s+enum \w+: Swift\.Error\b.*?\n\}\n/msg) {
    my $block = $&;
    $lower{$1} = lcfirst $1 while $block =~ /^    case ([A-Z]\w*)/mg;
}
die "swift-idioms: no error enums found\n" unless %lower;
my %declaration_keyword = map { $_ => 1 } qw(internal public private fileprivate open default import init deinit subscript);
my $names = join '|', sort keys %lower;
$s =~ s/^(    case )($names)\b/$1 . ($declaration_keyword{$lower{$2}} ? "`$lower{$2}`" : $lower{$2})/mge;
$s =~ s/\.($names)\b/.$lower{$1}/g;

# Blocking forms: Swift apps call the async ones, cancelled with their Task.
my %blocking = map { $_ => 1 } $s =~ /\bfunc (\w+Blocking)\(/g;
die "swift-idioms: @{[sort keys %blocking]} reached Swift: add the Rust names to `exclude` under [bindings.swift] in uniffi.toml\n" if %blocking;

# Cancellation: the status UniFFI calls "not supported yet" becomes CancellationError.
expect('cancelled status', scalar($s =~ s/(case CALL_CANCELLED:\n\s*)fatalError\("Cancellation not supported yet"\)/${1}throw CancellationError()/), 1);
# The async helper takes the future's cancel function and calls it when the Task is cancelled.
expect('helper parameter', scalar($s =~ s/(\n    completeFunc: \(UInt64, UnsafeMutablePointer<RustCallStatus>\) -> F,\n)(    freeFunc: \(UInt64\) -> \(\),\n)/$1    cancelFunc: \@convention(c) (UInt64) -> (),\n$2/), 1);
expect('helper poll loop', scalar($s =~ s{\n    var pollResult: Int8;\n    repeat \{\n(.*?)\n    \} while pollResult != UNIFFI_RUST_FUTURE_POLL_READY\n}{
    my $body = $1;
    $body =~ s/^/    /mg;
    "\n    await withTaskCancellationHandler {\n        var pollResult: Int8\n        repeat {\n$body\n        } while pollResult != UNIFFI_RUST_FUTURE_POLL_READY\n    } onCancel: {\n        cancelFunc(rustFuture)\n    }\n"
}se), 1);
my $calls = () = $s =~ /await uniffiRustCallAsync\(/g;
expect('call sites', scalar($s =~ s/(\n\s*)freeFunc: (\w+)_rust_future_free_(\w+)/$1cancelFunc: $2_rust_future_cancel_$3,$1freeFunc: $2_rust_future_free_$3/g), $calls);

open my $out, '>', $path or die "$path: $!";
print $out $s;
close $out;
PERL
done
