# Sourced by the benchmarks that can measure the toolkit at another commit, the "before" of a change
# (run.sh --against, allocator.sh --against, profile.sh --commit).
#
#   dll=$(bench_dll_at REV)   builds cifar10-bench at REV and prints the path of its dll ("." is the work tree as
#                             it is); fails, and the script with it under set -e, when the build does.
# A commit is checked out in a git worktree under runs/profile/build-REV (ignored by git), kept for the next
# invocation: remove it with `git worktree remove runs/profile/build-REV`.
bench_dll_at() {
  local tree=.
  if [ "$1" != "." ]; then
    tree=runs/profile/build-$1
    [ -d "$tree" ] || git worktree add --detach "$tree" "$1" >&2 || return 1
  fi
  local log # the build's output, shown only when it fails
  if ! log=$(dotnet build -c Release "$tree/bench/Cifar10.Bench" -v q -nologo 2>&1); then
    echo "$log" >&2; echo "building cifar10-bench at $1 failed" >&2; return 1
  fi
  echo "$tree/bench/Cifar10.Bench/bin/Release/net10.0/cifar10-bench.dll"
}
