"""Loads the activity catalogue of GUIDELINES.md: every slug with its risk category.

The data is written out here (not imported) so the migration stays what it was when it ran.
"""

from django.db import migrations

CATALOGUE = {
    "mobility": [
        ("stretching", "Stretching"),
        ("knee_to_chest", "Knee-to-chest stretch"),
        ("childs_pose", "Child's pose"),
        ("press_up", "Press-up (prone extension)"),
        ("pelvic_tilt", "Pelvic tilt"),
        ("foam_rolling", "Foam rolling"),
        ("gentle_yoga", "Gentle yoga"),
    ],
    "core": [
        ("plank", "Plank"),
        ("bird_dog", "Bird dog"),
        ("bridge", "Bridge"),
        ("dead_bug", "Dead bug"),
        ("exercise_ball", "Exercise ball"),
        ("isometric_core", "Isometric core hold"),
    ],
    "low_impact": [
        ("walking", "Walking"),
        ("swimming", "Swimming"),
        ("water_therapy", "Water therapy"),
        ("cycling", "Cycling"),
        ("elliptical", "Elliptical trainer"),
    ],
    "strength_light": [
        ("bodyweight", "Bodyweight exercises"),
        ("resistance_band", "Resistance band"),
        ("machine_strength", "Machine strength training"),
        ("rear_delt_row", "Rear delt row"),
    ],
    "high_impact": [
        ("running", "Running"),
        ("plyometrics", "Plyometrics"),
        ("hiit", "HIIT"),
        ("jumping", "Jumping"),
    ],
    "heavy_strength": [
        ("deadlift", "Deadlift"),
        ("squat", "Squat"),
        ("kettlebell_swing", "Kettlebell swing"),
    ],
    "olympic": [("clean", "Clean"), ("snatch", "Snatch")],
    "twisting": [("russian_twist", "Russian twist"), ("golf", "Golf")],
    "extension_yoga": [
        ("wheel_pose", "Wheel pose"),
        ("plow_pose", "Plow pose"),
        ("camel_pose", "Camel pose"),
    ],
    "pivot_sport": [
        ("tennis", "Tennis"),
        ("basketball", "Basketball"),
        ("hockey", "Hockey"),
        ("soccer", "Soccer"),
    ],
}


def load(apps, schema_editor):
    Activity = apps.get_model("recovery", "Activity")
    for category, activities in CATALOGUE.items():
        for slug, name in activities:
            Activity.objects.update_or_create(
                slug=slug, defaults={"name": name, "category": category}
            )


def unload(apps, schema_editor):
    Activity = apps.get_model("recovery", "Activity")
    slugs = [slug for activities in CATALOGUE.values() for slug, _ in activities]
    Activity.objects.filter(slug__in=slugs).delete()


class Migration(migrations.Migration):
    dependencies = [("recovery", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
