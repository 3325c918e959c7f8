#!/usr/bin/env python3
"""Rebuild the three binary or non-UTF-8 documents of docs/ from the texts below.

    .venv/bin/python tests/data/unseen/build.py

* 寿光高新区2023年工作要点.docx          python-docx: headings, numbered items, a table of targets
* 兴义高新区2022年经济工作会议讲话.pdf    reportlab: a real text PDF (embedded CJK TrueType font), A4
* 射洪经开区2022年工作总结.txt           the text written as GBK bytes

The built files are committed; nothing here runs at test time. Building the PDF needs reportlab
(`pip install reportlab`) and a CJK font: WenQuanYi Micro Hei if present, else reportlab's CID font
STSong-Light. Every text in this file is invented: zones on real county names, people, companies, figures.
"""
from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent / "docs"

# ------------------------------------------------------------------------------------------- .docx

SHOUGUANG_NAME = "寿光高新区2023年工作要点.docx"
SHOUGUANG_TITLE = "寿光高新区2023年工作要点"
SHOUGUANG_INTRO = (
    "2023年是全面贯彻落实党的二十大精神的开局之年，是实施“十四五”规划承上启下的关键之年。"
    "高新区工作的总体思路是：坚持以习近平新时代中国特色社会主义思想为指导，深入贯彻党的二十大精神，"
    "锚定“建设全国一流农业科技创新高地和鲁北先进制造业基地”目标，坚持创新驱动、项目为王、改革赋能，"
    "全力以赴稳增长、强产业、优环境，奋力开创高新区高质量发展新局面。"
)
SHOUGUANG_TABLE_INTRO = "2023年主要经济指标安排如下："
SHOUGUANG_TABLE = [
    ("指标", "2022年完成", "2023年目标", "增长%"),
    ("营业收入（亿元）", "428.6", "480", "12.0"),
    ("规上工业增加值增速（%）", "9.7", "10", "—"),
    ("固定资产投资（亿元）", "76.3", "85", "11.4"),
    ("税收收入（亿元）", "13.8", "15.2", "10.1"),
    ("实际使用外资（万美元）", "5200", "6000", "15.4"),
    ("高新技术企业（家）", "102", "120", "17.6"),
    ("研发经费投入（亿元）", "11.2", "13", "16.1"),
]
# (style, text): "H1"/"H2" headings, "P" body paragraphs
SHOUGUANG_BODY = [
    ("H1", "一、主要目标"),
    ("P", SHOUGUANG_TABLE_INTRO),
    ("TABLE", ""),
    ("P", "同时，力争全年新增规上工业企业15家、国家级专精特新“小巨人”企业2家，"
          "规上工业企业亩均税收达到33万元，营商环境满意度保持在95%以上。"),
    ("H1", "二、重点任务"),
    ("H2", "（一）聚力产业升级，壮大主导产业集群"),
    ("P", "1.做强蔬菜种业。依托国家蔬菜种业创新基地，实施种业“育繁推一体化”工程，"
          "支持寿禾种业集团、鲁丰种业等骨干企业开展联合攻关，全年自主研发蔬菜新品种30个以上，"
          "国产蔬菜种子在园区市场占有率提高到85%。"),
    ("P", "2.做优高端化工。推动盐化工、溴化工向精细化工、新材料延伸，加快渤澳新材料电子级化学品项目建设，"
          "全年高端化工产业营业收入增长10%以上。"),
    ("P", "3.做大智能装备。重点发展智慧农业装备、新能源装备两个细分领域，"
          "支持寿光智农装备公司建设智能温室装备产业园，全年智能装备产业产值突破60亿元。"),
    ("H2", "（二）聚力项目建设，扩大有效投资"),
    ("P", "1.实施项目建设“十百千”工程，即全年实施10亿元以上项目10个、完成项目投资100亿元、"
          "供应产业用地1000亩。"),
    ("P", "2.健全项目推进机制，实行“周调度、月通报、季观摩、年考核”，"
          "确保新开工亿元以上项目30个、竣工投产20个。"),
    ("P", "3.创新招商方式，组建种业、化工、装备三个专业招商小组，"
          "全年新签约亿元以上项目35个，其中外资项目不少于5个。"),
    ("H2", "（三）聚力科技创新，增强发展动能"),
    ("P", "1.实施高新技术企业“育苗扶壮”计划，全年新增高新技术企业18家以上，科技型中小企业入库200家。"),
    ("P", "2.加快建设蔬菜种业中试基地和智慧农业检验检测中心，新建省级以上研发平台6个。"),
    ("P", "3.深化与中国农业大学、山东农业大学合作，全年引进高层次人才团队8个、各类人才1500人。"),
    ("H2", "（四）聚力改革攻坚，优化营商环境"),
    ("P", "1.深化“放管服”改革，推行“一链办理”，实现企业全生命周期事项“一次办好”。"),
    ("P", "2.全面推行“标准地+承诺制”，新出让工业用地100%按“标准地”供应。"),
    ("P", "3.开展“助企服务月”活动，建立企业诉求“接诉即办”机制，全年兑现惠企资金1.2亿元。"),
    ("H2", "（五）聚力党建引领，锻造过硬队伍"),
    ("P", "坚持以党的政治建设为统领，深化“红色引擎·产业先锋”党建品牌建设，推进非公企业党组织“两个覆盖”；"
          "健全干部考核评价和激励机制，持续深化作风能力提升，营造风清气正的政治生态。"),
    ("H1", "三、保障措施"),
    ("P", "1.加强组织领导。成立重点工作推进领导小组，由党工委书记任组长，班子成员按分工牵头抓总。"),
    ("P", "2.强化考核督导。将各项任务分解到部门、落实到个人，实行月调度、季通报，考核结果与绩效奖励挂钩。"),
    ("P", "3.营造浓厚氛围。加大宣传力度，及时总结推广典型经验，营造比学赶超、争先进位的良好氛围。"),
]


def build_docx() -> Path:
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    d = docx.Document()
    normal = d.styles["Normal"]
    normal.font.name = "SimSun"
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    normal.font.size = Pt(12)
    title = d.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(SHOUGUANG_TITLE)
    run.bold = True
    run.font.size = Pt(22)
    d.add_paragraph(SHOUGUANG_INTRO)
    for style, text in SHOUGUANG_BODY:
        if style == "H1":
            d.add_heading(text, level=1)
        elif style == "H2":
            d.add_heading(text, level=2)
        elif style == "TABLE":
            rows = SHOUGUANG_TABLE
            table = d.add_table(rows=len(rows), cols=len(rows[0]))
            table.style = "Table Grid"
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    cell = table.cell(r, c)
                    cell.text = value
                    if r == 0:
                        cell.paragraphs[0].runs[0].bold = True
        else:
            d.add_paragraph(text)
    end = d.add_paragraph("寿光高新区党工委办公室　　2023年2月6日印发")
    end.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    path = DOCS / SHOUGUANG_NAME
    d.save(str(path))
    return path


# -------------------------------------------------------------------------------------------- .pdf

XINGYI_NAME = "兴义高新区2022年经济工作会议讲话.pdf"
XINGYI_TITLE = "在兴义高新区2022年经济工作会议上的讲话"
XINGYI_SPEAKER = "党工委书记　杨光辉"
XINGYI_DATE = "（2022年1月18日）"
XINGYI_BODY = [
    "同志们：",
    "这次会议的主要任务是，深入贯彻中央、省委和州委经济工作会议精神，总结2021年经济工作，分析当前形势，"
    "安排部署2022年经济工作。刚才，管委会主任罗成同志作了经济工作报告，我完全赞同，请大家认真抓好落实。"
    "下面，我讲四点意见。",
    "第一，客观看待成绩，坚定加快发展的信心决心。",
    "2021年，面对疫情反复、能耗双控、原材料价格大幅上涨等多重挑战，全区上下坚持稳中求进，"
    "全力稳增长、抓项目、促转型，经济发展实现了“十四五”良好开局。全年实现营业收入241.6亿元，增长19.8%；"
    "规上工业总产值156.3亿元，增长18.2%；完成固定资产投资47.8亿元，增长12.6%；实现税收收入4.96亿元，"
    "增长10.7%。新增规上工业企业14家，总数达到97家；高新技术企业总数达到43家，比上年增加11家。",
    "产业发展方面，铝基新材料、绿色食品、能源装备三大主导产业实现产值118.4亿元，占规上工业总产值的75.8%。"
    "兴铝新材料年产20万吨铝合金板带项目建成投产，薏仁米精深加工产业园入驻企业达到16家，"
    "“兴义薏仁”区域品牌价值突破30亿元。项目建设方面，全年实施重点项目68个，完成投资41.2亿元，"
    "新签约亿元以上项目27个，到位资金96.5亿元。",
    "这些成绩来之不易，是全区上下团结奋斗、苦干实干的结果。在此，我代表区党工委、管委会，"
    "向同志们表示衷心的感谢！",
    "第二，清醒认识形势，增强机遇意识和忧患意识。",
    "从面临的机遇看，国家支持贵州在新时代西部大开发上闯新路，西部陆海新通道建设加快推进，"
    "为我们承接东部产业转移、扩大开放合作提供了难得机遇。从存在的问题看，我区发展仍然存在“三个不够”："
    "一是产业规模不够大，营业收入超10亿元的企业只有5家，缺少带动力强的龙头企业；"
    "二是创新能力不够强，研发经费投入强度仅为1.4%，低于全省高新区平均水平；"
    "三是要素保障不够足，可供工业用地不足800亩，标准化厂房供给紧张，融资难、融资贵问题依然突出。"
    "对这些问题，我们必须高度重视，切实加以解决。",
    "第三，突出工作重点，全力推动经济高质量发展。",
    "2022年全区经济工作的主要预期目标是：营业收入力争突破280亿元，增长16%；"
    "规上工业总产值力争突破180亿元，增长15%；固定资产投资增长15%；税收收入增长10%；"
    "招商引资到位资金120亿元。围绕上述目标，重点抓好四项工作。",
    "一要抓产业链延伸。坚持“建链、补链、延链、强链”，组建铝基新材料、绿色食品、能源装备、现代物流四个招商专班，"
    "全年引进产业链项目30个以上，推动铝加工产品由板带箔向汽车轻量化部件延伸。",
    "二要抓重大项目建设。全年安排重点项目75个、年度计划投资50亿元，"
    "确保兴铝新材料二期、能源装备产业园一期等项目年内开工建设，标准化厂房新增20万平方米。",
    "三要抓科技创新。实施高新技术企业“倍增”行动，全年新增高新技术企业15家，"
    "新建省级以上研发平台3个，研发经费投入强度提高到1.8%。",
    "四要抓营商环境优化。推行“一窗通办、一网通办、一次办成”，"
    "工业项目审批时限压缩至30个工作日以内，全面落实惠企政策“直达快享”。",
    "第四，狠抓作风建设，确保各项任务落地落实。",
    "各级干部要牢固树立“抓落实就是硬道理”的鲜明导向，把精力集中到谋发展、抓项目、优服务上来。"
    "要建立“月调度、季通报、年考核”工作机制，对重点工作实行清单化管理、台账式推进；"
    "要大力弘扬“马上就办、真抓实干”的作风，对推诿扯皮、敷衍塞责的严肃追责问责。",
    "同志们，新的一年，任务艰巨、责任重大。让我们更加紧密地团结在以习近平同志为核心的党中央周围，"
    "在州委、州政府的坚强领导下，埋头苦干、勇毅前行，奋力开创高新区高质量发展新局面，"
    "以优异成绩迎接党的二十大胜利召开！",
]


def _font_name() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    ttc = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
    if ttc.exists():
        pdfmetrics.registerFont(TTFont("WQYMicroHei", str(ttc), subfontIndex=0))
        return "WQYMicroHei"
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


def build_pdf() -> Path:
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    font = _font_name()
    body = ParagraphStyle("body", fontName=font, fontSize=11, leading=20, firstLineIndent=22,
                          wordWrap="CJK")
    heading = ParagraphStyle("heading", parent=body, firstLineIndent=22, fontSize=12)
    title = ParagraphStyle("title", fontName=font, fontSize=17, leading=28, alignment=TA_CENTER)
    center = ParagraphStyle("center", fontName=font, fontSize=12, leading=22, alignment=TA_CENTER)
    story = [Paragraph(XINGYI_TITLE, title), Paragraph(XINGYI_SPEAKER, center), Paragraph(XINGYI_DATE, center),
             Spacer(1, 8)]
    for para in XINGYI_BODY:
        style = heading if para.startswith("第") and para.endswith("。") and len(para) < 40 else body
        story.append(Paragraph(para, style if para != "同志们：" else ParagraphStyle("salute", parent=body,
                                                                                 firstLineIndent=0)))
    path = DOCS / XINGYI_NAME
    doc = SimpleDocTemplate(str(path), pagesize=A4, leftMargin=25 * mm, rightMargin=25 * mm,
                            topMargin=25 * mm, bottomMargin=25 * mm, title=XINGYI_TITLE, author="兴义高新区党政办公室")
    doc.build(story)
    return path


# --------------------------------------------------------------------------------------- GBK .txt

SHEHONG_NAME = "射洪经开区2022年工作总结.txt"
SHEHONG_TEXT = """射洪经开区2022年工作总结

2022年，射洪经开区坚持以习近平新时代中国特色社会主义思想为指导，全面贯彻党的二十大精神，深入落实市委、市政府决策部署，聚焦“锂电之都”建设目标，全力以赴稳增长、抓项目、强创新、优服务，园区综合实力实现大幅跃升。现将全年工作总结如下。

一、主要经济指标完成情况
全年实现营业收入463.7亿元，同比增长28.4%；规上工业增加值增长17.2%，增速居全省经开区前列；完成固定资产投资92.6亿元，增长22.1%，其中工业投资74.3亿元，增长27.8%；实现税收收入12.8亿元，增长19.5%。锂电新能源产业实现营业收入289.5亿元，增长46.7%，占园区营业收入的比重达到62.4%；精细化工、食品饮料产业分别实现营业收入78.5亿元、64.2亿元。

二、重点工作推进情况
（一）项目建设跑出加速度。全年实施重点项目58个，完成投资81.5亿元；新签约项目33个，协议投资额486亿元，其中50亿元以上项目3个。沱江锂材年产5万吨电池级碳酸锂、川中新能源正极材料二期等12个项目建成投产，锂电产业形成“锂矿精炼—正极材料—电池电芯—回收利用”完整链条。
（二）创新能力持续提升。新增高新技术企业13家，总数达到62家；新建省级企业技术中心3家、省级工程技术研究中心2家；与四川大学共建锂电材料联合实验室，全年研发经费投入9.7亿元，增长31.2%。
（三）营商环境不断优化。推行重大项目“专班+专员”服务，工业项目审批时限压缩至15个工作日；新建标准化厂房26万平方米，新增工业用地1860亩；全年兑现惠企资金1.36亿元，为企业新增融资38.5亿元。
（四）安全环保底线守牢。开展危险化学品企业安全专项整治，排查整改隐患426处；园区污水处理厂提标改造完成，主要污染物排放总量下降8.3%，全年未发生较大及以上安全生产事故和环境污染事件。
（五）党的建设全面加强。深入学习宣传贯彻党的二十大精神，开展“党建+项目”攻坚行动，在重点项目建设一线设立党员先锋岗28个；持续深化作风建设，干部队伍干事创业精气神不断提振。

三、存在的问题
一是产业结构“一业独大”，锂电产业占比过高，受锂价波动影响较大；二是配套能力不足，锂电产业本地配套率只有32%；三是人才支撑不够，高端研发人才和熟练技术工人短缺。

四、2023年工作打算
2023年，射洪经开区将坚持“链式发展、集群成势”，力争营业收入突破550亿元，增长18%以上；固定资产投资增长15%；新增高新技术企业15家。重点抓好锂电产业延链补链，加快推进储能电池、电池回收项目建设；加快精细化工、食品饮料产业转型升级；持续深化“放管服”改革，打造一流营商环境，奋力建设国家级经济技术开发区。
"""


def build_gbk() -> Path:
    path = DOCS / SHEHONG_NAME
    path.write_bytes(SHEHONG_TEXT.encode("gbk"))
    return path


def main() -> int:
    which = set(sys.argv[1:]) or {"docx", "pdf", "gbk"}
    built = []
    if "docx" in which:
        built.append(build_docx())
    if "pdf" in which:
        built.append(build_pdf())
    if "gbk" in which:
        built.append(build_gbk())
    for path in built:
        print(f"built {path.relative_to(DOCS.parent)} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
