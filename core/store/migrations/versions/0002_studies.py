"""Studies: arms, readers, seeded assignments, reference (human) scanpaths for Turing-test arms,
append-only completions and Turing answers; reviews, ratings and events gain an optional
assignment.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

APPEND_ONLY = ("turing_answers", "assignment_completions")
LINKED = ("reviews", "ratings", "events")  # tables that gain assignment_id


def _created_at() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "studies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("design", sa.String(16), nullable=False),
        _created_at(),
    )
    op.create_table(
        "study_cases",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("study_id", sa.Integer(), sa.ForeignKey("studies.id"), nullable=False),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("prediction_id", sa.Integer(), sa.ForeignKey("predictions.id"), nullable=True),
        sa.UniqueConstraint("study_id", "case_id"),
    )
    op.create_index("ix_study_cases_study_id", "study_cases", ["study_id"])
    op.create_table(
        "arms",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("study_id", sa.Integer(), sa.ForeignKey("studies.id"), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("overlays", sa.JSON(), nullable=False),
        sa.UniqueConstraint("study_id", "name"),
    )
    op.create_index("ix_arms_study_id", "arms", ["study_id"])
    op.create_table(
        "study_readers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("study_id", sa.Integer(), sa.ForeignKey("studies.id"), nullable=False),
        sa.Column("reader_id", sa.Integer(), sa.ForeignKey("readers.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _created_at(),
        sa.UniqueConstraint("study_id", "reader_id"),
    )
    op.create_index("ix_study_readers_study_id", "study_readers", ["study_id"])
    op.create_table(
        "reference_scanpaths",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("fixations", sa.JSON(), nullable=False),
        _created_at(),
    )
    op.create_index("ix_reference_scanpaths_case_id", "reference_scanpaths", ["case_id"])
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("study_id", sa.Integer(), sa.ForeignKey("studies.id"), nullable=False),
        sa.Column("reader_id", sa.Integer(), sa.ForeignKey("readers.id"), nullable=False),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("arm_id", sa.Integer(), sa.ForeignKey("arms.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("turing_source", sa.String(8), nullable=True),
        sa.Column(
            "reference_scanpath_id",
            sa.Integer(),
            sa.ForeignKey("reference_scanpaths.id"),
            nullable=True,
        ),
        sa.UniqueConstraint("study_id", "reader_id", "position"),
    )
    op.create_index("ix_assignments_study_id", "assignments", ["study_id"])
    op.create_index("ix_assignments_reader_id", "assignments", ["reader_id"])
    op.create_table(
        "assignment_completions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "assignment_id",
            sa.Integer(),
            sa.ForeignKey("assignments.id"),
            nullable=False,
            unique=True,
        ),
        sa.Column("client_request_id", sa.String(128), nullable=False, unique=True),
        _created_at(),
    )
    op.create_table(
        "turing_answers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "assignment_id",
            sa.Integer(),
            sa.ForeignKey("assignments.id"),
            nullable=False,
            unique=True,
        ),
        sa.Column("answer", sa.String(8), nullable=False),
        sa.Column("confidence", sa.Integer(), nullable=True),
        sa.Column("client_request_id", sa.String(128), nullable=False, unique=True),
        _created_at(),
    )
    # ADD COLUMN (not a batch table rebuild), so the append-only triggers of 0001 stay in place;
    # SQLite accepts an inline REFERENCES there, which Alembic's add_column does not emit.
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in LINKED:
        if sqlite:
            op.execute(
                f"ALTER TABLE {table} ADD COLUMN assignment_id INTEGER REFERENCES assignments (id)"
            )
        else:
            op.add_column(
                table,
                sa.Column("assignment_id", sa.Integer(), sa.ForeignKey("assignments.id")),
            )
        op.create_index(f"ix_{table}_assignment_id", table, ["assignment_id"])
    for table in APPEND_ONLY:
        _append_only(table)


def _append_only(table: str) -> None:
    """Triggers that refuse UPDATE and DELETE on ``table`` (as in revision 0001)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION gazescope_append_only()"
        )
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        )


def downgrade() -> None:
    raise NotImplementedError("GazeScope databases are only upgraded")
