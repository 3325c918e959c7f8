"""Five small synthetic documents, each in two versions that differ in a marker phrase and in length.

Each version carries a marker no other document or version has (v1: "…工程", v2: "…行动"), so a search tells
which version a document is in; v2 adds a paragraph, so the two versions also differ in passage count.
"""

from __future__ import annotations

from pathlib import Path

ZONES = ["青山高新区", "白水经开区", "金沙高新区", "红岭经开区", "碧湖高新区"]
MARK_V1 = ["青松工程", "翠竹工程", "红梅工程", "金菊工程", "紫兰工程"]
MARK_V2 = ["白鹤行动", "丹顶行动", "雪雁行动", "灰鹭行动", "黄鹂行动"]
NAMES = [f"syn_{i}.txt" for i in range(len(ZONES))]


def text_of(i: int, version: int) -> str:
    zone = ZONES[i]
    mark = (MARK_V1 if version == 1 else MARK_V2)[i]
    income = 100 + 7 * i if version == 1 else 120 + 9 * i
    lines = [
        f"{zone}{2020 + i}年工作总结",
        "一、主要经济指标",
        f"{2020 + i}年，{zone}实现营业收入{income}.5亿元，同比增长{8 + i}.2%。税收收入{12 + i}.3亿元，增长{5 + i}.1%。"
        f"全年新增高新技术企业{30 + i}家，总数达到{200 + 10 * i}家。规模以上工业增加值增长{6 + i}.4%。",
        f"固定资产投资完成{50 + i}.6亿元，其中产业投资占比超过六成。实际利用外资{3 + i}.2亿美元，进出口总额{40 + i}.8亿元。",
        "二、重点工作",
        f"{zone}深入实施{mark}，加快建设智能制造产业园，引进重大项目{18 + i}个，总投资{126 + i}亿元。",
        f"我们坚持创新驱动发展，新建省级以上研发平台{9 + i}个，技术合同成交额{15 + i}.7亿元，专利授权量增长{20 + i}%。",
        f"营商环境持续优化，企业开办时间压缩至{2 + i % 2}个工作日，“一网通办”事项覆盖率达到{90 + i}%。",
        "三、下一步打算",
        f"{2021 + i}年，{zone}力争营业收入突破{income + 50}亿元，继续推进{mark}，培育更多专精特新企业。",
    ]
    if version == 2:
        lines.append("四、保障措施")
        lines.append(f"同时，{zone}将启动数字经济产业园二期工程，新增标准厂房{20 + i}万平方米，"
                     f"引进数字经济企业{40 + i}家，打造区域数字经济发展高地，力争数字经济核心产业增加值增长{15 + i}%。")
    return "\n".join(lines) + "\n"


def write_versions(root: Path) -> tuple[Path, Path]:
    v1, v2 = root / "v1", root / "v2"
    for folder, version in ((v1, 1), (v2, 2)):
        folder.mkdir(parents=True, exist_ok=True)
        for i, name in enumerate(NAMES):
            (folder / name).write_text(text_of(i, version), "utf-8")
    return v1, v2
