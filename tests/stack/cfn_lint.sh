#!/bin/sh
# stack.cfn_lint: lints a CloudFormation template with cfn-lint (AWS's linter) when it is on
# PATH; exits 77 (CTest's SKIPPED) when it is not, so a missing linter never looks like a pass.
# cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational (not reported by
# default); any of them fails the test.
template="$1"
if ! command -v cfn-lint >/dev/null 2>&1; then
  echo "cfn-lint is not on PATH (pip install cfn-lint): SKIPPED"
  exit 77
fi
cfn-lint --version
cfn-lint -- "$template"
rc=$?
[ "$rc" -eq 0 ] && echo "cfn-lint: $template is clean"
exit "$rc"
