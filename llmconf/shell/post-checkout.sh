#!/bin/sh
{mark}
# Installed by 'llmconf git-hook install'; 'llmconf git-hook uninstall' removes it{restores}.
# On 'git worktree add' it applies the profile that {config} declares for the new worktree.
# It never fails the git command: an llmconf problem is a one-line warning.
status=0
chained={chained}
config_dir={config_dir}
python={python}
if [ -x "$chained" ]; then
  "$chained" "$@" || status=$?
fi
if [ -x "$python" ]; then
  "$python" -m llmconf -C "$config_dir" git-hook run "$@" || :
elif command -v llmconf >/dev/null 2>&1; then
  llmconf -C "$config_dir" git-hook run "$@" || :
elif [ "$3" = 1 ]; then
  # Only on a new worktree (PREV all zeros), the one checkout llmconf would have acted on.
  case $1 in
    *[!0]*) ;;
    *) printf '%s\n' {not_found} >&2 ;;
  esac
fi
exit $status
