"""Qt table models for the agreement panel: the per-code report and the disagreements."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QFont

from workbench.services.agreement import AgreementReport, CodeAgreement, Disagreement
from workbench.ui.models.table import AnyIndex, HeaderedTableModel

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def agreement_cells(row: CodeAgreement) -> tuple[str, ...]:
    """A report row as the table shows it (same formats as the command line's table)."""
    ci = "—" if row.alpha_low is None else f"[{row.alpha_low:.3f}, {row.alpha_high:.3f}]"
    return (
        row.code_path,
        f"{row.units:,}",
        "—" if row.percent_agreement is None else f"{row.percent_agreement:.1%}",
        _number(row.cohen_kappa),
        _number(row.alpha),
        ci,
        _number(row.u_alpha),
    )


class AgreementModel(HeaderedTableModel):
    """One row per code, then the overall row (codes pooled)."""

    HEADERS = ("Code", "Units", "Agreement", "Kappa", "Alpha", "CI", "u-alpha")
    HEADER_TIPS = (
        "The code (its own passages, not its sub-codes'); the last row pools all codes",
        "Pairable units compared (characters, passages or documents)",
        "Share of units on which the coders agree",
        "Cohen's kappa (two coders only)",
        "Krippendorff's alpha, nominal",
        "Bootstrap confidence interval of alpha",
        "Unitized alpha (Krippendorff et al. 2016) on documents coded by every coder",
    )

    def __init__(self, parent: object = None) -> None:
        super().__init__(parent)  # type: ignore[arg-type]
        self.report: AgreementReport | None = None
        self._rows: list[CodeAgreement] = []

    def set_report(self, report: AgreementReport | None) -> None:
        self.beginResetModel()
        self.report = report
        self._rows = [] if report is None else [*report.rows, report.overall]
        self.endResetModel()

    def row(self, row: int) -> CodeAgreement:
        return self._rows[row]

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return agreement_cells(row)[index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() > 0:
            return int(RIGHT.value)
        if role == Qt.ItemDataRole.FontRole and row.code_uuid is None:
            font = QFont()
            font.setBold(True)
            return font
        return None

    def header_extra(self, section: int, role: int) -> object:
        if role == Qt.ItemDataRole.TextAlignmentRole and section > 0:
            return int(RIGHT.value)
        return None


class DisagreementModel(HeaderedTableModel):
    """Places where the coders differ: document, code, then each coder's version."""

    def __init__(self, parent: object = None) -> None:
        super().__init__(parent)  # type: ignore[arg-type]
        self.HEADERS = ("Document", "Code")
        self._rows: list[Disagreement] = []

    def set_disagreements(self, coders: list[str], rows: list[Disagreement]) -> None:
        self.beginResetModel()
        self.HEADERS = ("Document", "Code", *coders)
        self._rows = list(rows)
        self.endResetModel()

    def disagreement(self, row: int) -> Disagreement:
        return self._rows[row]

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        item = self._rows[index.row()]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if column == 0:
                return item.document_name
            if column == 1:
                return item.code_path
            if column - 2 < len(item.spans):
                span = item.spans[column - 2]
                if span.start is None:
                    return "(not marked)"
                if role == Qt.ItemDataRole.ToolTipRole:
                    return f"[{span.start}, {span.end}) {span.quote}"
                return " ".join(span.quote.split())
        return None
