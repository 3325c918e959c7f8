"""Web-page chrome of news and government sites, removed by line shape and position; the body never loses a
sentence, and a short document keeps its body. Pages written for these tests."""

from __future__ import annotations

from assistant.loading import parse_text
from assistant.text import fold, normalize

BODY = [
    "2月8日上午，丰城高新区2023年工作会议在管委会大会议室召开。会议回顾总结2022年工作，部署2023年重点任务。",
    "会议指出，2022年全区实现营业收入215.6亿元，同比增长11.2%；新增高新技术企业23家，总数达到96家。",
    "会议强调，2023年要聚焦主导产业，坚持项目为王，提供技术支持和要素保障，持续优化营商环境。",
]


def page(top: list[str], bottom: list[str]) -> str:
    return "\n".join(top + BODY + bottom)


def assert_body_kept(doc):
    for sentence in BODY:
        assert sentence in doc.text


def test_page_info_line_is_read_and_removed():
    doc = parse_text(page(["发布时间：2023-02-09 10:32 来源：党政办公室 作者：王晓丽 浏览次数：1826 字号：大 中 小 | 打印 | 关闭"],
                          []), "a.txt")
    assert_body_kept(doc)
    assert "浏览次数" not in doc.text and "发布时间" not in doc.text
    assert doc.meta["published"] == "2023-02-09"
    assert doc.meta["source"] == "党政办公室"
    # the fields that say when, where and by whom, verbatim, kept as the page's information (not the widgets)
    assert doc.meta["page_info"] == "发布时间：2023-02-09 10:32 来源：党政办公室 作者：王晓丽"


def test_page_info_keeps_every_header_line_that_informs_and_no_other():
    doc = parse_text(page(["2024-05-06 09:12 来源：园区融媒体中心", "首页 > 新闻中心 > 园区动态", "责任编辑：陈某某"], []),
                     "b.txt")
    assert doc.meta["page_info"].splitlines()[0] == "2024-05-06 09:12 来源：园区融媒体中心"
    assert "首页" not in doc.meta["page_info"]
    plain = parse_text(page([], []), "c.txt")
    assert "page_info" not in plain.meta


def test_breadcrumbs_and_nav_menus():
    doc = parse_text(page(["今天是：2023年2月9日 星期四 设为首页 | 加入收藏 | 无障碍浏览",
                           "首页", "走进园区", "新闻中心", "政务公开", "投资服务",
                           "当前位置：首页 > 新闻中心 > 园区动态", "首页 » 新闻中心 » 园区动态"], []), "b.txt")
    assert_body_kept(doc)
    for chrome in ("设为首页", "走进园区", "投资服务", "当前位置", "»"):
        assert chrome not in doc.text


def test_share_buttons_print_close_and_widgets():
    doc = parse_text(page([], ["分享到：微信 微博 QQ空间", "【打印】 【关闭】", "打印 关闭", "字号：大 中 小"]), "c.txt")
    assert_body_kept(doc)
    assert "微博" not in doc.text and "打印" not in doc.text


def test_footer_copyright_icp_and_related_links():
    doc = parse_text(page([], ["相关新闻", "丰城高新区召开一季度重点项目推进会2023-02-16",
                               "丰城高新区举办春风行动专场招聘会2023-02-06", "-- 政府网站 -- 中国政府网 江西省人民政府",
                               "版权所有：丰城高新技术产业开发区管理委员会", "赣ICP备12345678号 网站标识码3609000001",
                               "地址：丰城高新区创新大道88号 邮编：331100", "技术支持：某某网络公司"]), "d.txt")
    assert_body_kept(doc)
    for chrome in ("相关新闻", "推进会2023-02-16", "政府网站", "版权所有", "ICP", "邮编", "某某网络"):
        assert chrome not in doc.text
    assert "提供技术支持和要素保障" in doc.text  # the same words inside the body stay


def test_e_paper_leftovers():
    doc = parse_text(page(["![](http://epaper.example.cn/images/a.jpg)", "| ||||", "第A03版：要闻",
                           "大公网丰城17日电(大公报记者赵文博)丰城高新区召开2023年工作会议。![]()"],
                          ["||||", "责任编辑：李明"]), "e.txt")
    assert_body_kept(doc)
    assert "![" not in doc.text and "||||" not in doc.text and "A03" not in doc.text and "责任编辑" not in doc.text
    assert "大公网丰城17日电(大公报记者赵文博)丰城高新区召开2023年工作会议。" in doc.text  # the wire line is body


def test_repost_notes_in_traditional_characters():
    top = ["來源：丰城高新區管委會　　編輯：林曉雯　　發佈時間：2020-01-16 09:05　　閱讀：523",
           "（本文轉載自丰城高新區管委會門戶網站，版權歸原作者所有，如有侵權請聯繫刪除。）"]
    doc = parse_text(page(top, ["版權聲明：本站轉載文章僅供學習交流。"]), "f.txt")
    assert_body_kept(doc)
    for chrome in ("編輯", "閱讀", "侵權", "版權聲明"):
        assert chrome not in doc.text
    assert doc.meta["published"] == "2020-01-16"


def test_inline_pinyin_is_page_noise():
    text = ("丰城高新區(qū)2019年工作總結\n2019年，丰城高新區(qū)全年實現營業收入88.2億元，同比增長9.1%；"
            "園(yuán)區(qū)新增高新技術企業12家，發展勢頭良好。")
    doc = parse_text(text, "g.txt")
    assert "(qū)" not in doc.text and "(yuán)" not in doc.text
    assert "丰城高新區全年實現營業收入88.2億元" in doc.text
    # parentheses that are no pinyin stay
    doc = parse_text("丰城高新区引进首席执行官(CEO)培训项目。全年实现营业收入88.2亿元。", "h.txt")
    assert "(CEO)" in doc.text


def test_a_short_document_keeps_its_body():
    doc = parse_text("来源：丰城高新区\n丰城经开区2019年工作总结。", "short.txt")
    assert doc.text == "丰城经开区2019年工作总结。"


def test_fold_is_character_for_character_both_ways():
    trad = "丰城高新區全年實現營業收入88.2億元，「建設一流園區」"
    simp = "丰城高新区全年实现营业收入88.2亿元，「建设一流园区」"
    assert fold(trad) == simp and len(fold(trad)) == len(trad)
    assert fold(simp) == simp  # a simplified text folds to itself
    assert normalize("營業收入") == normalize("营业收入")
