#!/usr/bin/python3
"""List keywords of the default rules that occur inside phrases any request may contain.

Hotline texts share boilerplate ("市民来电反映", "请相关部门处理") and everyday words; a
keyword that is a substring of them (电表 in 来电表扬, 水井 in 下水井盖) fires on requests
that have nothing to do with its department. Run after editing default_rules.txt:

    python3 bench/routing/check_traps.py

It prints each (keyword, rule, phrase) hit of an any/all keyword. Standard library only.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_rules_sql  # noqa: E402

PHRASES = """
市民来电反映 来电人反映 来电人称 来电人咨询 来电人举报 来电人求助 来电人投诉 来电人建议 来电表示
来电表扬 来电表达 来电咨询 来电求助 来电举报 来电投诉 来电建议 市民来电紧急反映 市民咨询 市民建议
诉求人 诉求人到大厅咨询 网友留言 网友反映 市民通过微信反映 市民通过网站留言 市民通过APP反映
请相关部门处理 请尽快处理 希望尽快解决 要求相关部门 请相关单位 已经反映多次 多次反映未解决
请派人处理 希望政府 请求帮助 联系电话 回访 工单 市民满意 表示感谢 对处理结果满意 要求答复
打了好几次电话 打电话没人接 没人管 没人处理 推来推去 互相推诿 到底归谁管 该找哪个部门
驻马店市 驿城区 西平县 上蔡县 平舆县 正阳县 确山县 泌阳县 汝南县 遂平县 新蔡县 经济开发区 高新区 示范区
河南省 河南 中心城区 县城 乡镇 村里 社区 小区 家属院 地址在 门牌号 楼下 号楼 单元
一套 一方面 地方 对方 方便 大方 时间 晚上 白天 每天 天天 好几天 好几个月 半年了 一直 多次
来了 来看 上来 下来 出来 过来 回来 来回 本来 原来 后来 来说 上班 下班 老人 孩子 家人 家里 身体
生气 脾气 客气 天气 空气 力气 运气 勇气 气愤 服气 一口气 问题 情况 处理 解决 管理 部门 单位 工作人员
电话 手机 打电话 发短信 微信 网上 线上 app 小程序 公众号 二维码 视频 照片 拍照
水平 水果 薪水 口水 泪水 开水 热水 洗澡 下水 水泥 风水 汗水 墨水 水电 水电费 物业水电
安全 危险 隐患 事故 着急 紧急 马上 立即 尽快 赶紧 严重 影响 造成 导致 损失 赔偿
工作 工人 工程 施工单位 公司 企业 老板 员工 个体 商户 店铺 门面 商家 市场
学生 学习 学会 老师说 上学 同学 培训 考试 资料 手续 材料 证明 证件 身份证号 户口本 申请 办理 登记 审批 报名 预约
收费 费用 价格 多少钱 交钱 缴费 扣钱 扣费 退钱 押金 发票 报销 补贴 补助 优惠 政策
文化路 建设路 健康路 车站路 人民路 解放路 工业路 交通路 新华路 和平路 团结路 胜利路 光明路 中华路 五一路 园林路 公园路 学院路 医院路 水利路 电力路 铁路 开源大道 文明大道 驿城大道 天中山大道 置地大道 雪松大道 金山路 化工路 农业路 商业街 步行街 工业园 开发区 高铁站 火车站 汽车站
打不着火 点不着火 浇不上水 集资房 上水道 转学费 一套餐具 来电人 养老院 敬老院 老年证 老人家 不安全 没动静 有动静
"""


def main():
    depts = gen_rules_sql.parse(gen_rules_sql.SOURCE)
    phrases = PHRASES.split()
    hits = 0
    for code, rules in depts:
        for r in rules:
            if r["priority"] >= 300:
                continue
            for key in ("any", "all"):
                for kw in r["match"].get(key, []):
                    inside = [p for p in phrases if kw.lower() in p.lower() and kw.lower() != p.lower()]
                    if inside:
                        hits += 1
                        print("%-8s %-12s @%-3d %-4s %s" % (kw, r["name"], r["priority"], key,
                                                           " ".join(inside[:6])))
    print("%d keyword(s) occur inside common phrases" % hits)
    return 0


if __name__ == "__main__":
    sys.exit(main())
