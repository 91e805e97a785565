"""Initial schema: equipment, materials and genealogy, products, orders, processes, tasks,
machine events, quality records and the hash-chained audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("entity_type", sa.String(length=100), nullable=False),
        sa.Column("entity_id", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_entries")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_entries_hash")),
    )
    op.create_index(op.f("ix_audit_entries_action"), "audit_entries", ["action"], unique=False)
    op.create_index("ix_audit_entries_entity", "audit_entries", ["entity_type", "entity_id"], unique=False)

    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "equipment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column(
            "level",
            sa.Enum(
                "enterprise",
                "site",
                "area",
                "work_center",
                "work_unit",
                name="equipmentlevel",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("path", sa.String(length=600), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["equipment.id"], name=op.f("fk_equipment_parent_id_equipment"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment")),
        sa.UniqueConstraint("parent_id", "name", name=op.f("uq_equipment_parent_id_name")),
        sa.UniqueConstraint("path", name=op.f("uq_equipment_path")),
    )
    op.create_index(op.f("ix_equipment_parent_id"), "equipment", ["parent_id"], unique=False)

    op.create_table(
        "material_definitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_material_definitions")),
        sa.UniqueConstraint("code", name=op.f("uq_material_definitions_code")),
    )
    op.create_table(
        "process_definitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_key", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("bpmn_xml", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("deployed_by", sa.String(length=100), nullable=False),
        sa.Column("deployed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_definitions")),
        sa.UniqueConstraint("process_key", "sha256", name=op.f("uq_process_definitions_process_key_sha256")),
        sa.UniqueConstraint("process_key", "version", name=op.f("uq_process_definitions_process_key_version")),
    )
    op.create_table(
        "capabilities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_unit_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["work_unit_id"], ["equipment.id"], name=op.f("fk_capabilities_work_unit_id_equipment"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capabilities")),
        sa.UniqueConstraint("work_unit_id", "name", name=op.f("uq_capabilities_work_unit_id_name")),
    )
    op.create_table(
        "material_lots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_number", sa.String(length=100), nullable=False),
        sa.Column("material_definition_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("available", "on_hold", "consumed", "scrapped", name="lotstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("quantity", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_material_lots_quantity_not_negative")),
        sa.ForeignKeyConstraint(
            ["location_id"], ["equipment.id"], name=op.f("fk_material_lots_location_id_equipment"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["material_definition_id"],
            ["material_definitions.id"],
            name=op.f("fk_material_lots_material_definition_id_material_definitions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_material_lots")),
        sa.UniqueConstraint("lot_number", name=op.f("uq_material_lots_lot_number")),
    )
    op.create_index(
        op.f("ix_material_lots_material_definition_id"), "material_lots", ["material_definition_id"], unique=False
    )
    op.create_index(op.f("ix_material_lots_status"), "material_lots", ["status"], unique=False)

    op.create_table(
        "node_bindings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_unit_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("node_id", sa.String(length=500), nullable=False),
        sa.Column("data_type", sa.String(length=50), nullable=True),
        sa.Column("access", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["work_unit_id"], ["equipment.id"], name=op.f("fk_node_bindings_work_unit_id_equipment"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_node_bindings")),
        sa.UniqueConstraint("work_unit_id", "name", name=op.f("uq_node_bindings_work_unit_id_name")),
    )
    op.create_table(
        "opcua_endpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_unit_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("namespace_uri", sa.String(length=500), nullable=True),
        sa.Column("security_policy", sa.String(length=50), nullable=False),
        sa.Column("security_mode", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(
            ["work_unit_id"],
            ["equipment.id"],
            name=op.f("fk_opcua_endpoints_work_unit_id_equipment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opcua_endpoints")),
        sa.UniqueConstraint("work_unit_id", name=op.f("uq_opcua_endpoints_work_unit_id")),
    )
    op.create_table(
        "planned_downtimes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("equipment_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_planned_downtimes_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["equipment_id"],
            ["equipment.id"],
            name=op.f("fk_planned_downtimes_equipment_id_equipment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_planned_downtimes")),
    )
    op.create_index(op.f("ix_planned_downtimes_equipment_id"), "planned_downtimes", ["equipment_id"], unique=False)

    op.create_table(
        "product_definitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("material_definition_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["material_definition_id"],
            ["material_definitions.id"],
            name=op.f("fk_product_definitions_material_definition_id_material_definitions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_definitions")),
        sa.UniqueConstraint("code", name=op.f("uq_product_definitions_code")),
    )
    op.create_table(
        "shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("equipment_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("starts", sa.Time(), nullable=False),
        sa.Column("ends", sa.Time(), nullable=False),
        sa.CheckConstraint("weekday >= 0 AND weekday <= 6", name=op.f("ck_shifts_weekday_range")),
        sa.ForeignKeyConstraint(
            ["equipment_id"], ["equipment.id"], name=op.f("fk_shifts_equipment_id_equipment"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shifts")),
        sa.UniqueConstraint("equipment_id", "weekday", "name", name=op.f("uq_shifts_equipment_id_weekday_name")),
    )
    op.create_table(
        "material_sublots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sublot_number", sa.String(length=100), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("available", "on_hold", "consumed", "scrapped", name="lotstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("quantity", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_material_sublots_quantity_not_negative")),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["material_lots.id"], name=op.f("fk_material_sublots_lot_id_material_lots"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_material_sublots")),
        sa.UniqueConstraint("sublot_number", name=op.f("uq_material_sublots_sublot_number")),
    )
    op.create_index(op.f("ix_material_sublots_lot_id"), "material_sublots", ["lot_id"], unique=False)

    op.create_table(
        "product_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_definition_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.String(length=20), nullable=False),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("change_note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "effective_to IS NULL OR effective_to > effective_from", name=op.f("ck_product_revisions_effectivity_order")
        ),
        sa.ForeignKeyConstraint(
            ["product_definition_id"],
            ["product_definitions.id"],
            name=op.f("fk_product_revisions_product_definition_id_product_definitions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_revisions")),
        sa.UniqueConstraint(
            "product_definition_id", "revision", name=op.f("uq_product_revisions_product_definition_id_revision")
        ),
    )
    op.create_index(
        op.f("ix_product_revisions_product_definition_id"), "product_revisions", ["product_definition_id"], unique=False
    )

    op.create_table(
        "bom_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_revision_id", sa.Integer(), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("material_definition_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("operation_sequence", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["material_definition_id"],
            ["material_definitions.id"],
            name=op.f("fk_bom_lines_material_definition_id_material_definitions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["product_revision_id"],
            ["product_revisions.id"],
            name=op.f("fk_bom_lines_product_revision_id_product_revisions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bom_lines")),
        sa.UniqueConstraint(
            "product_revision_id", "line_number", name=op.f("uq_bom_lines_product_revision_id_line_number")
        ),
    )
    op.create_table(
        "production_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_number", sa.String(length=100), nullable=False),
        sa.Column("product_definition_id", sa.Integer(), nullable=False),
        sa.Column("product_revision_id", sa.Integer(), nullable=True),
        sa.Column("quantity", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "received",
                "released",
                "in_progress",
                "held",
                "completed",
                "closed",
                "cancelled",
                "aborted",
                name="productionorderstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.String(length=50), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_definition_id"],
            ["product_definitions.id"],
            name=op.f("fk_production_orders_product_definition_id_product_definitions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["product_revision_id"],
            ["product_revisions.id"],
            name=op.f("fk_production_orders_product_revision_id_product_revisions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_production_orders")),
        sa.UniqueConstraint("order_number", name=op.f("uq_production_orders_order_number")),
    )
    op.create_index(
        op.f("ix_production_orders_product_definition_id"), "production_orders", ["product_definition_id"], unique=False
    )
    op.create_index(op.f("ix_production_orders_status"), "production_orders", ["status"], unique=False)

    op.create_table(
        "routing_operations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_revision_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("work_center_id", sa.Integer(), nullable=False),
        sa.Column("setup_time_s", sa.Float(), nullable=False),
        sa.Column("run_time_s", sa.Float(), nullable=False),
        sa.Column("recipe_parameters", sa.JSON(), nullable=False),
        sa.Column("work_instructions", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_revision_id"],
            ["product_revisions.id"],
            name=op.f("fk_routing_operations_product_revision_id_product_revisions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_center_id"],
            ["equipment.id"],
            name=op.f("fk_routing_operations_work_center_id_equipment"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_operations")),
        sa.UniqueConstraint(
            "product_revision_id", "sequence", name=op.f("uq_routing_operations_product_revision_id_sequence")
        ),
    )
    op.create_table(
        "job_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("production_order_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("operation", sa.String(length=200), nullable=False),
        sa.Column("routing_operation_id", sa.Integer(), nullable=True),
        sa.Column("work_center_id", sa.Integer(), nullable=True),
        sa.Column("work_unit_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "planned",
                "dispatched",
                "running",
                "paused",
                "completed",
                "aborted",
                "cancelled",
                name="joborderstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("quantity", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("good_quantity", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("scrap_quantity", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("planned_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("planned_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("actual_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("actual_end", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["production_order_id"],
            ["production_orders.id"],
            name=op.f("fk_job_orders_production_order_id_production_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["routing_operation_id"],
            ["routing_operations.id"],
            name=op.f("fk_job_orders_routing_operation_id_routing_operations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["work_center_id"],
            ["equipment.id"],
            name=op.f("fk_job_orders_work_center_id_equipment"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["work_unit_id"], ["equipment.id"], name=op.f("fk_job_orders_work_unit_id_equipment"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_orders")),
        sa.UniqueConstraint("production_order_id", "sequence", name=op.f("uq_job_orders_production_order_id_sequence")),
    )
    op.create_index(op.f("ix_job_orders_status"), "job_orders", ["status"], unique=False)
    op.create_index(op.f("ix_job_orders_work_unit_id"), "job_orders", ["work_unit_id"], unique=False)

    op.create_table(
        "process_instances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_definition_id", sa.Integer(), nullable=False),
        sa.Column("workflow_id", sa.String(length=200), nullable=False),
        sa.Column("run_id", sa.String(length=100), nullable=True),
        sa.Column("business_key", sa.String(length=200), nullable=True),
        sa.Column("production_order_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "running",
                "completed",
                "failed",
                "cancelled",
                "terminated",
                name="processinstancestatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("started_by", sa.String(length=100), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["process_definition_id"],
            ["process_definitions.id"],
            name=op.f("fk_process_instances_process_definition_id_process_definitions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["production_order_id"],
            ["production_orders.id"],
            name=op.f("fk_process_instances_production_order_id_production_orders"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_instances")),
        sa.UniqueConstraint("workflow_id", name=op.f("uq_process_instances_workflow_id")),
    )
    op.create_index(op.f("ix_process_instances_business_key"), "process_instances", ["business_key"], unique=False)
    op.create_index(
        op.f("ix_process_instances_process_definition_id"), "process_instances", ["process_definition_id"], unique=False
    )
    op.create_index(
        op.f("ix_process_instances_production_order_id"), "process_instances", ["production_order_id"], unique=False
    )
    op.create_index(op.f("ix_process_instances_status"), "process_instances", ["status"], unique=False)

    op.create_table(
        "genealogy_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consumed_lot_id", sa.Integer(), nullable=False),
        sa.Column("produced_lot_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("job_order_id", sa.Integer(), nullable=True),
        sa.Column("operation", sa.String(length=200), nullable=True),
        sa.Column("work_unit_id", sa.Integer(), nullable=True),
        sa.Column("performed_by", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("consumed_lot_id <> produced_lot_id", name=op.f("ck_genealogy_links_not_self")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_genealogy_links_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["consumed_lot_id"],
            ["material_lots.id"],
            name=op.f("fk_genealogy_links_consumed_lot_id_material_lots"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["job_order_id"],
            ["job_orders.id"],
            name=op.f("fk_genealogy_links_job_order_id_job_orders"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["produced_lot_id"],
            ["material_lots.id"],
            name=op.f("fk_genealogy_links_produced_lot_id_material_lots"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["work_unit_id"],
            ["equipment.id"],
            name=op.f("fk_genealogy_links_work_unit_id_equipment"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_genealogy_links")),
    )
    op.create_index(op.f("ix_genealogy_links_consumed_lot_id"), "genealogy_links", ["consumed_lot_id"], unique=False)
    op.create_index(op.f("ix_genealogy_links_job_order_id"), "genealogy_links", ["job_order_id"], unique=False)
    op.create_index(op.f("ix_genealogy_links_produced_lot_id"), "genealogy_links", ["produced_lot_id"], unique=False)

    op.create_table(
        "human_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_instance_id", sa.Integer(), nullable=True),
        sa.Column("element_id", sa.String(length=200), nullable=False),
        sa.Column("token", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "claimed", "completed", "cancelled", name="taskstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("assignee", sa.String(length=100), nullable=True),
        sa.Column("form_schema", sa.JSON(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("work_unit_id", sa.Integer(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_by", sa.String(length=100), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["process_instance_id"],
            ["process_instances.id"],
            name=op.f("fk_human_tasks_process_instance_id_process_instances"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_unit_id"], ["equipment.id"], name=op.f("fk_human_tasks_work_unit_id_equipment"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_human_tasks")),
        sa.UniqueConstraint(
            "process_instance_id",
            "element_id",
            "token",
            name=op.f("uq_human_tasks_process_instance_id_element_id_token"),
        ),
    )
    op.create_index(op.f("ix_human_tasks_assignee"), "human_tasks", ["assignee"], unique=False)
    op.create_index(op.f("ix_human_tasks_process_instance_id"), "human_tasks", ["process_instance_id"], unique=False)
    op.create_index(op.f("ix_human_tasks_status"), "human_tasks", ["status"], unique=False)

    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_instance_id", sa.Integer(), nullable=False),
        sa.Column("element_id", sa.String(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column(
            "status", sa.Enum("open", "resolved", name="incidentstatus", native_enum=False, length=32), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["process_instance_id"],
            ["process_instances.id"],
            name=op.f("fk_incidents_process_instance_id_process_instances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    op.create_index(op.f("ix_incidents_process_instance_id"), "incidents", ["process_instance_id"], unique=False)

    op.create_table(
        "machine_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_unit_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("state", "alarm", "counter", "command", name="machineeventkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=True),
        sa.Column("job_order_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_order_id"],
            ["job_orders.id"],
            name=op.f("fk_machine_events_job_order_id_job_orders"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["work_unit_id"],
            ["equipment.id"],
            name=op.f("fk_machine_events_work_unit_id_equipment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_machine_events")),
    )
    op.create_index(op.f("ix_machine_events_job_order_id"), "machine_events", ["job_order_id"], unique=False)
    op.create_index("ix_machine_events_work_unit_at", "machine_events", ["work_unit_id", "at"], unique=False)

    op.create_table(
        "quality_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("characteristic", sa.String(length=200), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("job_order_id", sa.Integer(), nullable=True),
        sa.Column("work_unit_id", sa.Integer(), nullable=True),
        sa.Column("value_number", sa.Numeric(precision=18, scale=6), nullable=True),
        sa.Column("value_text", sa.String(length=500), nullable=True),
        sa.Column("unit", sa.String(length=20), nullable=True),
        sa.Column("lower_limit", sa.Numeric(precision=18, scale=6), nullable=True),
        sa.Column("upper_limit", sa.Numeric(precision=18, scale=6), nullable=True),
        sa.Column(
            "result",
            sa.Enum("pass", "fail", "not_evaluated", name="qualityresult", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_order_id"],
            ["job_orders.id"],
            name=op.f("fk_quality_records_job_order_id_job_orders"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["material_lots.id"], name=op.f("fk_quality_records_lot_id_material_lots"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["work_unit_id"],
            ["equipment.id"],
            name=op.f("fk_quality_records_work_unit_id_equipment"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_records")),
    )
    op.create_index(op.f("ix_quality_records_job_order_id"), "quality_records", ["job_order_id"], unique=False)
    op.create_index(op.f("ix_quality_records_lot_id"), "quality_records", ["lot_id"], unique=False)

    op.create_table(
        "task_candidate_groups",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("group_name", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["human_tasks.id"],
            name=op.f("fk_task_candidate_groups_task_id_human_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("task_id", "group_name", name=op.f("pk_task_candidate_groups")),
    )
    op.create_index(op.f("ix_task_candidate_groups_group_name"), "task_candidate_groups", ["group_name"], unique=False)
    _create_append_only_triggers()


def downgrade() -> None:
    _drop_append_only_triggers()
    op.drop_table("task_candidate_groups")
    op.drop_table("quality_records")
    op.drop_table("machine_events")
    op.drop_table("incidents")
    op.drop_table("human_tasks")
    op.drop_table("genealogy_links")
    op.drop_table("process_instances")
    op.drop_table("job_orders")
    op.drop_table("routing_operations")
    op.drop_table("production_orders")
    op.drop_table("bom_lines")
    op.drop_table("product_revisions")
    op.drop_table("material_sublots")
    op.drop_table("shifts")
    op.drop_table("product_definitions")
    op.drop_table("planned_downtimes")
    op.drop_table("opcua_endpoints")
    op.drop_table("node_bindings")
    op.drop_table("material_lots")
    op.drop_table("capabilities")
    op.drop_table("process_definitions")
    op.drop_table("material_definitions")
    op.drop_table("equipment")
    op.drop_table("audit_head")
    op.drop_table("audit_entries")


def _create_append_only_triggers() -> None:
    """The database itself refuses UPDATE and DELETE on audit entries (defence in depth; the
    hash chain still detects edits made by someone who drops these triggers)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit_entries is append-only: % refused', TG_OP; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries "
            "FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only()"
        )
        return
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_entries_no_{operation.lower()} BEFORE {operation} "
            f"ON audit_entries BEGIN SELECT RAISE(ABORT, "
            f"'audit_entries is append-only: {operation} refused'); END"
        )


def _drop_append_only_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_truncate ON audit_entries")
        op.execute("DROP TRIGGER IF EXISTS audit_entries_append_only ON audit_entries")
        op.execute("DROP FUNCTION IF EXISTS audit_entries_append_only()")
        return
    op.execute("DROP TRIGGER IF EXISTS audit_entries_no_update")
    op.execute("DROP TRIGGER IF EXISTS audit_entries_no_delete")
