# One agent's function in llmconf activate (a str.format template: {{ is a brace).
{command}() {{
  if _llmconf_kept {key} >/dev/null; then
    command {llmconf} exec -- {command} "$@"
  else
    command {command} "$@"
  fi
}}
