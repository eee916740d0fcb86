# Sourced by the benchmarks that can measure the toolkit at another commit, the "before" of a change
# (run.sh --against, allocator.sh --against, profile.sh --commit, time-to-accuracy.sh's RECIPE:COMMIT).
#
#   dll=$(bench_dll_at REV)   builds cifar10-bench at REV and prints the path of its dll ("." is the work tree as
#                             it is); fails, and the script with it under set -e, when the build does.
#   dll=$(cli_dll_at REV)     the same for the cifar10 tool.
# A commit is checked out in a git worktree under runs/profile/build-REV (ignored by git), kept for the next
# invocation: remove it with `git worktree remove runs/profile/build-REV`.
built_at() { # REV, the project's folder, its dll
  local tree=.
  if [ "$1" != "." ]; then
    tree=runs/profile/build-$1
    [ -d "$tree" ] || git worktree add --detach "$tree" "$1" >&2 || return 1
  fi
  local log # the build's output, shown only when it fails
  if ! log=$(dotnet build -c Release "$tree/$2" -v q -nologo 2>&1); then
    echo "$log" >&2; echo "building $2 at $1 failed" >&2; return 1
  fi
  echo "$tree/$2/bin/Release/net10.0/$3"
}
bench_dll_at() { built_at "$1" bench/Cifar10.Bench cifar10-bench.dll; }
cli_dll_at() { built_at "$1" src/Cifar10.Cli cifar10.dll; }
