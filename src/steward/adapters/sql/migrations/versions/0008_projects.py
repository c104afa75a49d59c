"""Projects: every experiment, registered model, dataset and suite belongs to one project.

Existing rows get the project named after themselves, which is what role bindings on a
name meant before (a binding on ``fraud`` covered the experiment and the model ``fraud``).

Revision ID: 0008_projects
Revises: 0007_evaluation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_projects"
down_revision = "0007_evaluation"
branch_labels = None
depends_on = None

_TABLES = ("experiments", "registered_models", "datasets", "validation_suites")


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("project", sa.String(250), nullable=True))
        op.execute(sa.text(f"UPDATE {table} SET project = name"))  # noqa: S608 - fixed table names
        with op.batch_alter_table(table) as batch:
            batch.alter_column("project", existing_type=sa.String(250), nullable=False)
            batch.create_index(f"ix_{table}_project", ["project"])
    # a validation result belongs to its dataset's project
    with op.batch_alter_table("validation_results") as batch:
        batch.add_column(sa.Column("project", sa.String(250), nullable=True))
    conn = op.get_bind()
    projects: dict[str, str] = {name: project for name, project in conn.execute(sa.text("SELECT name, project FROM datasets"))}
    for result_id, ref in conn.execute(sa.text("SELECT id, dataset_ref FROM validation_results")).all():
        name = _dataset_name(ref)
        conn.execute(
            sa.text("UPDATE validation_results SET project = :p WHERE id = :i"), {"p": projects.get(name, name), "i": result_id}
        )
    with op.batch_alter_table("validation_results") as batch:
        batch.alter_column("project", existing_type=sa.String(250), nullable=False)
        batch.create_index("ix_validation_results_project", ["project"])


def _dataset_name(ref: str) -> str:
    # datasets:/name/3, name:3, name@abc123 (results are only stored for such references)
    text = ref.removeprefix("datasets:/")
    for sep in ("/", ":", "@"):
        text = text.split(sep, 1)[0]
    return text[:250]


def downgrade() -> None:
    with op.batch_alter_table("validation_results") as batch:
        batch.drop_index("ix_validation_results_project")
        batch.drop_column("project")
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_project")
            batch.drop_column("project")
