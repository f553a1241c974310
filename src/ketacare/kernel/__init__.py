"""The shared plumbing of the shell, written once for every app.

- `clock`: the one clinic clock (tests and the demo move it for every app at once) and the one
  clock-skew allowance for times stamped by tablets.
- `clinic_time`: the clinic's time zone, its local days and hours, and the `in_clinic_time`
  view decorator.
- `idempotency`: the one rule for idempotency keys and the one way to replay a submission.
- `bounds`: the input bounds every schema, form and page parameter is held to.
- `stored_dates`: rows stored outside Python's date range load instead of failing a page.
- `versions`: the one version check (a stale version is a 409 naming `version`).

The kernel imports Django and `ketacare.errors` only; every app may import it, it imports no app.
"""
