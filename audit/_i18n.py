"""Chinese versions of the one-line errors the command line prints.

Errors are raised with the English constants (tests compare them verbatim);
the command line, asked for ``--lang zh``, matches the message against each
English template and re-fills the Chinese one with the same values.  A
message without a Chinese template is printed in English, never lost.
"""
from __future__ import annotations

import functools
import re
import string

from audit import _messages as msg


def _pairs() -> list[tuple[str, str]]:
    from audit import calendar as cal
    from audit import cli, rules

    return [
        (msg.FILE_NOT_FOUND, "{table}：找不到文件：{path}"),
        (msg.NO_ORDERS_FILE, "{path} 中没有订单文件：应为 orders.csv、orders.parquet 或 orders.xlsx"),
        (msg.UNSUPPORTED_FORMAT, "{path}：不支持的文件类型“{suffix}”；应为 .csv、.parquet 或 .xlsx"),
        (msg.UNREADABLE_FILE, "{path}：无法按 {kind} 读取：{error}"),
        (msg.UNKNOWN_ENCODING, "{path}：无法识别文本编码（已尝试 UTF-8、带 BOM 的 UTF-8、GB18030）"),
        (msg.MISSING_COLUMNS, "{path}：{table} 表缺少必需的列 {columns}；文件中的列：{found}"),
        (msg.EMPTY_TABLE, "{path}：{table} 表没有数据行"),
        (msg.NO_ROWS_LEFT, "{path}：{table} 表的所有行都被拒收（第 {line} 行：{reason}）；"
                           "gigaudit validate 可列出全部原因"),
        (msg.PROFILE_NOT_FOUND, "找不到映射配置：{path}"),
        (msg.PROFILE_INVALID, "映射配置 {path}：{error}"),
        (msg.PROFILE_UNKNOWN_UNIT, "映射配置 {path}：{table}.{column} 的单位“{unit}”未知；可用：{known}"),
        (msg.PROFILE_NEEDS_YEAR, "映射配置 {path}：{table}.{column} 使用“{unit}”时间，需要在配置中写明 "
                                 "year = YYYY"),
        (msg.UNKNOWN_CHECK, "未知的检查项“{name}”；可用的检查项：{known}"),
        (rules.ERR_UNKNOWN_REGION, "未知地区 {key}；最接近的已知地区：{close}"),
        (rules.ERR_AMBIGUOUS_REGION, "地区 {key} 有歧义：可能是 {matches}；请使用行政区划代码或拼音"),
        (rules.ERR_BEFORE_FIRST_STANDARD, "{region} 在 {date} 没有最低工资标准：规则表中 {jurisdiction} "
                                          "的第一个标准从 {first} 起施行"),
        (rules.ERR_TIER_UNKNOWN, "{region} 在 {date} 的最低工资档次未知：{jurisdiction} {standard} "
                                 "标准的资料未给出该地区的档次"),
        (cal.ERR_YEAR_NOT_COVERED, "节假日日历未覆盖 {year} 年；请用 --holidays 提供节假日覆盖文件"),
        (cal.ERR_OVERRIDE_MISSING, "节假日覆盖文件 {path} 不存在"),
        (cli.NEED_INPUT, "请给出数据目录（gigaudit run 目录 --out 输出目录）或 --orders 文件"),
        (cli.NO_DEMO, "找不到样本数据：应为 {path}（请在仓库的克隆中运行）"),
    ]


def _regex(template: str) -> re.Pattern:
    """A pattern that matches the template's output and captures each field."""
    parts, seen = [], set()
    for literal, field, _spec, _conv in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if field is None:
            continue
        if field in seen:
            parts.append(f"(?P={field})")
        else:
            parts.append(f"(?P<{field}>.+?)")
            seen.add(field)
    return re.compile("^" + "".join(parts) + "$", re.DOTALL)


@functools.lru_cache(maxsize=1)
def _compiled() -> list[tuple[re.Pattern, str]]:
    return [(_regex(en), zh) for en, zh in _pairs()]


def translate(message: str, lang: str) -> str:
    """The message in ``lang`` (``zh``: the Chinese template refilled; else as is)."""
    if lang != "zh":
        return message
    for pattern, zh in _compiled():
        m = pattern.match(message)
        if m:
            return zh.format(**m.groupdict())
    return message
