"""The plan parser on the shapes real models write (pure: no database)."""
from __future__ import annotations

from apps.plans.parsing import parse_plan, safe_relative_path


def titles(text: str) -> list[str]:
    return [s.title for s in parse_plan(text)]


def test_numbered_list_with_dot_and_files_and_risk_lines():
    text = """Here's the plan:

1. Create the data models
   Define Post, Author and Comment with their fields.
   Files: blog/models.py, blog/migrations/0001_initial.py
   Risk: low
2. Add the REST API
   Files: `blog/api.py`, `blog/urls.py`
   Risk: medium
3. Write tests
   Files: tests/test_blog.py
   Risk: low

Let me know if you want changes."""
    steps = parse_plan(text)
    assert [s.title for s in steps] == ["Create the data models", "Add the REST API", "Write tests"]
    assert steps[0].description == "Define Post, Author and Comment with their fields."
    assert steps[0].files == ["blog/models.py", "blog/migrations/0001_initial.py"]
    assert steps[1].files == ["blog/api.py", "blog/urls.py"] and steps[1].risk == "medium"
    assert "Let me know" not in steps[2].description and steps[2].risk == "low"


def test_numbered_list_with_parenthesis_and_bold_titles_with_dash_descriptions():
    text = """1) **Set up the database** — add Postgres and a settings module
2) **Auth flow** — move login into `src/auth/login.ts` (high risk)
3) **Cleanup** — delete the old helpers"""
    steps = parse_plan(text)
    assert [s.title for s in steps] == ["Set up the database", "Auth flow", "Cleanup"]
    assert steps[0].description == "add Postgres and a settings module"
    assert steps[1].risk == "high" and steps[1].files == ["src/auth/login.ts"]
    assert steps[1].description == "move login into `src/auth/login.ts`"
    assert steps[2].risk == "low" and steps[2].files == []


def test_step_n_colon_lines_with_nested_bullets_as_description():
    text = """Step 1: Extract the auth module
  - Move session handling out of `app.py`
  - Keep the public functions
Step 2: Wire it up
  - Import the new module everywhere
  - Risk: high
Step 3: Document it"""
    steps = parse_plan(text)
    assert [s.title for s in steps] == ["Extract the auth module", "Wire it up", "Document it"]
    assert steps[0].description == "- Move session handling out of `app.py`\n- Keep the public functions"
    assert steps[0].files == ["app.py"]
    assert steps[1].risk == "high" and "Risk" not in steps[1].description


def test_headed_sections_with_step_numbers_and_em_dash():
    text = """# Plan

## Step 1 — Data layer
Create the `Order` and `Customer` models.

**Files:** `shop/models.py`, `shop/admin.py`
**Risk:** Medium

## Step 2 — Checkout API
Expose checkout as `POST /api/checkout`.

- `shop/api/checkout.py`
- `shop/urls.py`

⚠️ Touches payments.

## Summary
Two steps."""
    steps = parse_plan(text)
    assert [s.title for s in steps] == ["Data layer", "Checkout API"]
    assert steps[0].files == ["shop/models.py", "shop/admin.py"] and steps[0].risk == "medium"
    assert steps[1].files == ["shop/api/checkout.py", "shop/urls.py"] and steps[1].risk == "high"
    assert "Touches payments." in steps[1].description and "Two steps" not in steps[1].description


def test_h3_numbered_headings_with_nested_numbered_lists_inside():
    text = """### 1. Prepare the schema
1. add a `status` column
2. backfill it
Files:
- db/migrations/0042_status.sql
- `app/models/order.rb`

### 2. Switch reads (risk: high)
Read the new column in `app/services/orders.rb`."""
    steps = parse_plan(text)
    assert [s.title for s in steps] == ["Prepare the schema", "Switch reads"]
    assert steps[0].description == "- add a `status` column\n- backfill it"
    assert steps[0].files == ["db/migrations/0042_status.sql", "app/models/order.rb"]
    assert steps[1].risk == "high" and steps[1].files == ["app/services/orders.rb"]


def test_plain_bulleted_list_without_files():
    text = """I'd do it like this:

- Sketch the screens
- Build the landing page
- Ship it"""
    steps = parse_plan(text)
    assert [s.title for s in steps] == ["Sketch the screens", "Build the landing page", "Ship it"]
    assert all(s.files == [] and s.risk == "low" and s.description == "" for s in steps)


def test_bullets_with_nested_details_and_files_touched():
    text = """* Add the Invoice model
    * fields: number, total, issued_at
    * Files touched: billing/models.py
* Generate PDFs (medium risk)
    * uses a new dependency
    * Files touched: billing/pdf.py, requirements.txt"""
    steps = parse_plan(text)
    assert [s.title for s in steps] == ["Add the Invoice model", "Generate PDFs"]
    assert steps[0].files == ["billing/models.py"] and steps[0].description == "- fields: number, total, issued_at"
    assert steps[1].risk == "medium" and steps[1].files == ["billing/pdf.py", "requirements.txt"]


def test_unnumbered_headings_skip_generic_ones():
    text = """## Overview
We split the work in three parts.

### Backend
Models and API in `server/app.py`.

### Frontend
Pages in `web/src/pages/Home.tsx`. Risk: medium

### Tests
Cover both.

## Next steps
Review."""
    steps = parse_plan(text)
    assert [s.title for s in steps] == ["Backend", "Frontend", "Tests"]
    assert steps[0].files == ["server/app.py"]
    assert steps[1].files == ["web/src/pages/Home.tsx"] and steps[1].risk == "medium"


def test_bold_step_labels_and_risk_emojis():
    text = """**Step 1:** Create the repository layer 🟢
**Step 2:** Migrate the data 🔴
**Step 3:** Remove the old tables ⚠️"""
    steps = parse_plan(text)
    assert [s.title for s in steps] == ["Create the repository layer", "Migrate the data", "Remove the old tables"]
    assert [s.risk for s in steps] == ["low", "high", "high"]


def test_risk_words_and_levels_in_many_spellings():
    text = """1. One
   - Risk level: Moderate — it changes the API
2. Two
   Risk = critical
3. Three [low]
4. Four — low-risk refactor"""
    steps = parse_plan(text)
    assert [s.risk for s in steps] == ["medium", "high", "low", "low"]
    assert steps[3].title == "Four" and steps[3].description == "refactor"


def test_code_fences_hold_no_headers_and_unsafe_paths_are_dropped():
    text = """1. Write the config
```yaml
# 2. not a step
key: value
```
   Files: ../etc/passwd, /etc/hosts, C:\\win.ini, config/app.yml, ~/secrets
2. Deploy
   Files: `deploy/./run.sh`, deploy/ok.sh"""
    steps = parse_plan(text)
    assert [s.title for s in steps] == ["Write the config", "Deploy"]
    assert steps[0].files == ["config/app.yml"]
    assert steps[1].files == ["deploy/run.sh", "deploy/ok.sh"]
    assert "not a step" not in steps[0].description


def test_backticked_paths_in_text_only_when_they_look_like_files():
    text = """1. Update `src/components/Hero.tsx` and `README.md`; run `npm test` and call `Post.title`
2. Bump `package.json`"""
    steps = parse_plan(text)
    assert steps[0].files == ["src/components/Hero.tsx", "README.md"]
    assert steps[1].files == ["package.json"]


def test_text_without_a_plan_gives_no_steps():
    assert parse_plan("I need more details: what should users be able to do?") == []
    assert parse_plan("") == []


def test_colon_titles_split_into_title_and_description_and_crlf_input():
    text = "1. Data layer: create models for Post and Author\r\n2. API: add endpoints\r\n"
    steps = parse_plan(text)
    assert [(s.title, s.description) for s in steps] == [
        ("Data layer", "create models for Post and Author"), ("API", "add endpoints")]


def test_bounds_on_titles_steps_and_files():
    long_title = "x" * 500
    text = "\n".join(f"{i}. {long_title}" for i in range(1, 80))
    steps = parse_plan(text)
    assert len(steps) == 50 and all(len(s.title) == 200 for s in steps)
    many = "1. Many files\n   Files: " + ", ".join(f"f{i}.py" for i in range(80))
    assert len(parse_plan(many)[0].files) == 50


def test_safe_relative_path():
    assert safe_relative_path("src/a.py") == "src/a.py"
    assert safe_relative_path("./src/a.py") == "src/a.py"
    for bad in ("../a", "/abs", "a/../../b", "C:/x", "a\\b", "http://x/y", "", "a//b"):
        assert safe_relative_path(bad) is None, bad
