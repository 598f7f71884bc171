# llmconf activate {shell}: a plain `claude` in a worktree llmconf delivers through --settings
# gets that worktree's file, and a plain `opencode` (or another agent
# llmconf configures) in a worktree whose key file llmconf keeps runs through llmconf exec,
# which hands it over; everywhere else they run untouched.
export LLMCONF_ACTIVATED={root}
# The file NAME that llmconf keeps for the folder holding $PWD (or one above it), if any.
_llmconf_kept() {{
  local _llmconf_d="$PWD"
  while :; do
    if [ -f {root}"$_llmconf_d"/"$1" ]; then
      printf '%s\n' {root}"$_llmconf_d"/"$1"
      return 0
    fi
    [ -z "$_llmconf_d" ] && return 1
    _llmconf_d="${{_llmconf_d%/*}}"
  done
}}
claude() {{
  local _llmconf_f
  if _llmconf_f="$(_llmconf_kept {name})"; then
    command claude --settings "$_llmconf_f" "$@"
  else
    command claude "$@"
  fi
}}
{agents}