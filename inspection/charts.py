"""Charts drawn on the server as SVG: no JavaScript, no library, readable by screen readers.

A ``Chart`` is the geometry of one small monthly chart (bars for counts, lines for percentages) with
everything the template needs; the template draws it and puts the same figures in a table beside it.
Colours come from CSS classes (``static/css/app.css``), never style attributes.
"""

from dataclasses import dataclass, field

WIDTH, HEIGHT = 440, 200
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 28


@dataclass
class Series:
    name: str
    values: list[float | None]
    css: str  # series-1, series-2 ...


@dataclass
class Chart:
    slug: str
    title: str
    description: str
    labels: list[str]  # short month names under the axis
    months: list[str]  # full month names for the table
    series: list[Series]
    kind: str = "bar"  # "bar" for counts, "line" for percentages
    unit: str = ""
    ceiling: float | None = None  # 100 for percentages
    bars: list[dict] = field(default_factory=list, init=False)
    lines: list[dict] = field(default_factory=list, init=False)
    ticks: list[dict] = field(default_factory=list, init=False)
    ticks_x: list[dict] = field(default_factory=list, init=False)

    width: int = WIDTH
    height: int = HEIGHT

    def __post_init__(self):
        top = self.ceiling or _nice_max(max((v for s in self.series for v in s.values if v is not None), default=0))
        plot_w, plot_h = self.width - LEFT - RIGHT, self.height - TOP - BOTTOM
        slot = plot_w / max(len(self.labels), 1)

        def y(value: float) -> float:
            return round(TOP + plot_h - (value / top) * plot_h, 1) if top else TOP + plot_h

        self.baseline = TOP + plot_h
        self.left, self.right = LEFT, self.width - RIGHT
        for k in range(5):
            value = top * k / 4
            self.ticks.append({"y": y(value), "label": f"{_fmt(value)}{self.unit}"})
        for i, label in enumerate(self.labels):
            self.ticks_x.append({"x": round(LEFT + slot * (i + 0.5), 1), "label": label})
        if self.kind == "bar":
            gap = slot * 0.2
            width = (slot - 2 * gap) / max(len(self.series), 1)
            for j, s in enumerate(self.series):
                for i, value in enumerate(s.values):
                    if value:
                        top_y = y(value)
                        self.bars.append({"x": round(LEFT + slot * i + gap + width * j, 1), "y": top_y,
                                          "w": round(width, 1), "h": round(self.baseline - top_y, 1), "css": s.css,
                                          "title": f"{s.name}, {self.months[i]}: {_fmt(value)}{self.unit}"})
        else:
            for s in self.series:
                points = [(round(LEFT + slot * (i + 0.5), 1), y(v), v, i) for i, v in enumerate(s.values)
                          if v is not None]
                self.lines.append({
                    "css": s.css, "points": " ".join(f"{px},{py}" for px, py, _, _ in points),
                    "dots": [{"x": px, "y": py, "title": f"{s.name}, {self.months[i]}: {_fmt(v)}{self.unit}"}
                             for px, py, v, i in points],
                })

    @property
    def rows(self) -> list[list[str]]:
        return [[month, *("—" if s.values[i] is None else f"{_fmt(s.values[i])}{self.unit}" for s in self.series)]
                for i, month in enumerate(self.months)]


def _nice_max(value: float) -> float:
    """A round top for the axis: 4, 8, 20, 40, 100 ... at or above ``value`` (4 when there is nothing)."""
    if value <= 4:
        return 4
    step = 1
    while True:
        for m in (1, 2, 5):
            if 4 * m * step >= value:
                return 4 * m * step
        step *= 10


def _fmt(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
