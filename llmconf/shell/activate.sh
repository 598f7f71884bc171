# llmconf activate {shell}: a plain `claude` in a worktree llmconf delivers through --settings
# gets that worktree's file, and a plain `opencode` in a worktree whose opencode key llmconf
# keeps gets that key (through llmconf exec); everywhere else both run untouched.
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
opencode() {{
  local _llmconf_d="$PWD"
  while :; do
    if [ -f {root}"$_llmconf_d"/{opencode_key} ]; then
      command {llmconf} exec -- opencode "$@"
      return
    fi
    [ -z "$_llmconf_d" ] && break
    _llmconf_d="${{_llmconf_d%/*}}"
  done
  command opencode "$@"
}}
