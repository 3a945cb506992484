# The bash tool's persistent shell, which the container's runner keeps between calls (see keel_shell.py): each call is
# an `eval` in this one process, so a call that runs only builtins starts no process at all.
#
# Run as `bash --noprofile --norc -c "$(cat persistent-shell.bash)" bash STATE INPUT OUTPUT`. Each line on stdin runs
# one call: the command is read from the file INPUT (so it needs no quoting), runs with stdin at EOF and stdout and
# stderr on the FIFO OUTPUT, and its exit status is then written to stdout as one line. Before that line, the working
# directory and exported variables are saved to `STATE.<pid>` (the runner moves the file to STATE, as
# keel_runner's `save_shell_state` does for the per-call script), and the EXIT trap saves them too when a call ends the
# shell (`exit`, `set -e`). At start the shell reads STATE, so a new shell continues where the last one, or the per-call
# script, left off. Variables, functions and options that are not exported last as long as this process.
#
# A call's `break` or `continue` at its top level would end or restart the loop that reads the calls: both are caught
# below, and the call's status is reported all the same. The names the loop needs are read-only, so a call cannot
# change them by accident.

readonly __keel_state="$1" __keel_input="$2" __keel_output="$3"
set --
if [ -f "$__keel_state" ]; then . "$__keel_state"; fi

__keel_save_state() {
  {
    builtin printf 'cd -- %q 2>/dev/null\n' "$PWD"
    builtin export -p
    builtin printf '%s\n' '# keel shell state end'
  } >"$__keel_state.$$" 2>/dev/null
}

__keel_finish() {
  __keel_save_state
  builtin printf '%d\n' "$1"
}
readonly -f __keel_save_state __keel_finish
trap __keel_save_state EXIT

__keel_call=
while :; do
  # A call is reported at the top of the next turn: after its `eval`, its `continue`, or (through the outer loop)
  # its `break`. An empty __keel_call after the read means stdin is at its end: the runner is gone.
  while
    __keel_status=$?
    if [ -n "$__keel_call" ]; then __keel_finish "$__keel_status"; fi
    __keel_call=
    IFS= builtin read -r __keel_call
  do
    IFS= builtin read -r -d '' __keel_command <"$__keel_input"
    builtin eval "$__keel_command" </dev/null >"$__keel_output" 2>&1
  done
  if [ -z "$__keel_call" ]; then builtin exit 0; fi
  # Here through a `break`: its status (0) is reported at the top of the inner loop.
  builtin true
done
