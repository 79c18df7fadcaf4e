from django.db import migrations, models
from django.utils.text import slugify


def fill_slugs(apps, schema_editor):
    Project = apps.get_model("projects", "Project")
    taken: dict[object, set[str]] = {}
    for project in Project.objects.order_by("created_at", "id"):
        used = taken.setdefault(project.workspace_id, set())
        base = slugify(project.name)[:72].strip("-") or "project"
        slug, n = base, 2
        while slug in used:
            slug, n = f"{base}-{n}", n + 1
        used.add(slug)
        Project.objects.filter(pk=project.pk).update(slug=slug)


class Migration(migrations.Migration):
    dependencies = [("projects", "0001_initial")]

    operations = [
        migrations.AddField(model_name="project", name="slug", field=models.SlugField(max_length=80, default=""),
                            preserve_default=False),
        migrations.RunPython(fill_slugs, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="project",
            constraint=models.UniqueConstraint(fields=("workspace", "slug"), name="uniq_project_slug"),
        ),
    ]
