# llmconf activate {shell}: a plain `claude` in a worktree llmconf delivers through --settings
# gets that worktree's file; everywhere else claude runs untouched.
export LLMCONF_ACTIVATED={root}
claude() {{
  local _llmconf_d="$PWD"
  while :; do
    if [ -f {root}"$_llmconf_d"/{name} ]; then
      command claude --settings {root}"$_llmconf_d"/{name} "$@"
      return
    fi
    [ -z "$_llmconf_d" ] && break
    _llmconf_d="${{_llmconf_d%/*}}"
  done
  command claude "$@"
}}
