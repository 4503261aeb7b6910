"""Initial schema: readers, cases, predictions with their findings, scanpaths and sentences,
append-only reviews, ratings and events.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

APPEND_ONLY = ("reviews", "ratings", "events")


def _created_at() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "readers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("years_experience", sa.Float(), nullable=True),
        _created_at(),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("licence", sa.String(200), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        _created_at(),
    )
    op.create_table(
        "predictions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("app_version", sa.String(64), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("image_width", sa.Integer(), nullable=False),
        sa.Column("image_height", sa.Integer(), nullable=False),
        sa.Column("modality", sa.String(16), nullable=False),
        sa.Column("view", sa.String(16), nullable=False),
        sa.Column("timings_ms", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        _created_at(),
    )
    op.create_index("ix_predictions_case_id", "predictions", ["case_id"])
    op.create_table(
        "prediction_models",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("prediction_id", sa.Integer(), sa.ForeignKey("predictions.id"), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("weights_sha256", sa.String(64), nullable=True),
        sa.Column("training_data", sa.Text(), nullable=False),
    )
    op.create_index("ix_prediction_models_prediction_id", "prediction_models", ["prediction_id"])
    op.create_table(
        "prediction_findings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("prediction_id", sa.Integer(), sa.ForeignKey("predictions.id"), nullable=False),
        sa.Column("finding", sa.String(64), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("band", sa.String(32), nullable=False),
    )
    op.create_index(
        "ix_prediction_findings_prediction_id", "prediction_findings", ["prediction_id"]
    )
    op.create_table(
        "prediction_scanpaths",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("prediction_id", sa.Integer(), sa.ForeignKey("predictions.id"), nullable=False),
        sa.Column("sample", sa.Integer(), nullable=False),
        sa.Column("fixations", sa.JSON(), nullable=False),
    )
    op.create_index(
        "ix_prediction_scanpaths_prediction_id", "prediction_scanpaths", ["prediction_id"]
    )
    op.create_table(
        "prediction_sentences",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("prediction_id", sa.Integer(), sa.ForeignKey("predictions.id"), nullable=False),
        sa.Column("key", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("finding", sa.String(64), nullable=True),
        sa.Column("probability", sa.Float(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.UniqueConstraint("prediction_id", "key"),
    )
    op.create_index(
        "ix_prediction_sentences_prediction_id", "prediction_sentences", ["prediction_id"]
    )
    op.create_table(
        "sentence_regions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "sentence_id", sa.Integer(), sa.ForeignKey("prediction_sentences.id"), nullable=False
        ),
        sa.Column("region_id", sa.String(64), nullable=False),
        sa.UniqueConstraint("sentence_id", "region_id"),
    )
    op.create_index("ix_sentence_regions_sentence_id", "sentence_regions", ["sentence_id"])
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reader_id", sa.Integer(), sa.ForeignKey("readers.id"), nullable=False),
        sa.Column("prediction_id", sa.Integer(), sa.ForeignKey("predictions.id"), nullable=False),
        sa.Column(
            "sentence_id", sa.Integer(), sa.ForeignKey("prediction_sentences.id"), nullable=False
        ),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("edited_text", sa.Text(), nullable=True),
        sa.Column("error_category", sa.String(32), nullable=True),
        sa.Column("significance", sa.String(16), nullable=True),
        sa.Column("client_request_id", sa.String(128), nullable=False, unique=True),
        sa.Column(
            "supersedes_id", sa.Integer(), sa.ForeignKey("reviews.id"), nullable=True, unique=True
        ),
        _created_at(),
    )
    op.create_index("ix_reviews_prediction_id", "reviews", ["prediction_id"])
    op.create_index("ix_reviews_reader_sentence", "reviews", ["reader_id", "sentence_id", "id"])
    op.create_table(
        "ratings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reader_id", sa.Integer(), sa.ForeignKey("readers.id"), nullable=False),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("usefulness", sa.Integer(), nullable=False),
        sa.Column("trust", sa.Integer(), nullable=False),
        sa.Column("scanpath_humanlike", sa.Integer(), nullable=False),
        sa.Column("client_request_id", sa.String(128), nullable=False, unique=True),
        _created_at(),
    )
    op.create_index("ix_ratings_reader_id", "ratings", ["reader_id"])
    op.create_index("ix_ratings_case_id", "ratings", ["case_id"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reader_id", sa.Integer(), sa.ForeignKey("readers.id"), nullable=False),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        _created_at(),
    )
    op.create_index("ix_events_reader_id", "events", ["reader_id"])
    op.create_index("ix_events_case_id", "events", ["case_id"])
    for table in APPEND_ONLY:
        _append_only(table)


def _append_only(table: str) -> None:
    """Triggers that refuse UPDATE and DELETE on ``table`` (SQLite and PostgreSQL)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION gazescope_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql"
        )
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
    for table in (
        "events",
        "ratings",
        "reviews",
        "sentence_regions",
        "prediction_sentences",
        "prediction_scanpaths",
        "prediction_findings",
        "prediction_models",
        "predictions",
        "cases",
        "readers",
    ):
        op.drop_table(table)
