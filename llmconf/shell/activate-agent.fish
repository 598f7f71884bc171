# One agent's function in llmconf activate (a str.format template: {{ is a brace).
function {command} --description '{command} with the worktree key llmconf keeps'
    if __llmconf_kept {key} >/dev/null
        command {llmconf} exec -- {command} $argv
    else
        command {command} $argv
    end
end
