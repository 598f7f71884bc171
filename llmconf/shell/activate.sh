# llmconf activate {shell}: a plain `claude` in a worktree llmconf delivers through --settings
# gets that worktree's file, and a plain `opencode` in a worktree whose opencode key llmconf
# keeps gets that key (through llmconf exec); everywhere else both run untouched.
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
opencode() {{
  if _llmconf_kept {opencode_key} >/dev/null; then
    command {llmconf} exec -- opencode "$@"
  else
    command opencode "$@"
  fi
}}
