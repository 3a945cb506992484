# The bash tool's persistent shell, which the container's runner keeps between calls (see keel_shell.py): each call is
# an `eval` in this one process, so a call that runs only builtins starts no process at all.
#
# Run as `bash --noprofile --norc -c "$(cat persistent-shell.bash)" bash STATE INPUT OUTPUT STATUS`. Each line on
# stdin runs one call: the command is read from the file INPUT (so it needs no quoting) and runs with stdin at EOF and
# stdout and stderr on the FIFO OUTPUT; then the jobs it started are disowned (the runner kills them, and bash then
# reports nothing of them), the working directory and exported variables are saved to `STATE.<pid>` (the runner moves
# the file to STATE, as keel_runner's `save_shell_state` does for the per-call script), and the call's exit status is
# written to the FIFO STATUS as one line. The shell's own stdout and stderr are /dev/null, so a trap's output outside a
# call goes nowhere. The EXIT trap saves the state too when a call ends the shell (`exit`, `set -e`). At start the
# shell reads STATE, so a new shell continues where the last one, or the per-call script, left off. Variables,
# functions and options that are not exported last as long as this process.
#
# A call's `break` or `continue` at its top level ends the one-turn loop around its `eval`; with a count past its own
# loops (`continue 2`, `break 2`) it reaches the loops that read the calls, whose next turn reports it. Either way its
# status (0) is reported. The names and functions the loop needs are read-only, and a call that unsets the variable
# that says a call is under way only loses that second chance.

readonly __keel_state="$1" __keel_input="$2" __keel_output="$3" __keel_status_fifo="$4"
set --
if [ -f "$__keel_state" ]; then . "$__keel_state"; fi

__keel_save_state() {
  {
    builtin printf 'cd -- %q 2>/dev/null\n' "$PWD"
    builtin export -p
    builtin printf '%s\n' '# keel shell state end'
  } >"$__keel_state.$$" 2>/dev/null
}

__keel_report() {
  builtin disown -a
  __keel_save_state
  builtin printf '%d\n' "$1" >"$__keel_status_fifo"
}
readonly -f __keel_save_state __keel_report
trap __keel_save_state EXIT

while :; do
  while
    # A call that left the one-turn loop through `continue N` or `break N` (N > 1) ends up here, unreported.
    if builtin test -n "${__keel_calling-}"; then
      __keel_calling=
      __keel_report 0
    fi
    IFS= builtin read -r __keel_call
  do
    IFS= builtin read -r -d '' __keel_command <"$__keel_input" || :
    __keel_calling=1
    for __keel_turn in call; do
      builtin eval "$__keel_command" </dev/null >"$__keel_output" 2>&1
    done
    __keel_report "$?"
    __keel_calling=
  done
  # Without a call under way, the read found stdin at its end: the runner is gone.
  if builtin test -z "${__keel_calling-}"; then builtin exit 0; fi
done
