"""Synthetic Chinese achievement/demand texts for speed benchmarks, drawn from domain term lists."""
from __future__ import annotations

import glob
import os
import tomllib

import numpy as np

# Built-in fallback vocabulary: field -> domain terms. Used only when seeds/fields/*.toml is absent.
BUILTIN_FIELDS: dict[str, list[str]] = {
    "新材料": "石墨烯 碳纤维 复合材料 高分子 陶瓷基 纳米涂层 稀土永磁 钛合金 高温合金 气凝胶 聚酰亚胺 液晶聚合物 碳化硅 氮化镓 金属粉末 增材制造 超导材料 磁性材料 光学薄膜 生物基材料 可降解塑料 导热界面 阻燃剂 纤维增强 表面改性 镀膜工艺 合金熔炼 晶体生长 粉末冶金 防腐涂料".split(),
    "新能源": "锂离子电池 固态电池 钠离子电池 正极材料 负极材料 电解液 隔膜 光伏组件 钙钛矿 储能系统 氢燃料电池 电解水制氢 风力发电 逆变器 电池管理系统 热管理 充电桩 动力电池回收 光热发电 生物质能 微电网 虚拟电厂 储氢材料 质子交换膜 硅碳负极 磷酸铁锂 三元材料 功率变换 能量密度 循环寿命".split(),
    "电子信息": "集成电路 芯片设计 射频前端 功率器件 传感器 图像识别 机器视觉 边缘计算 物联网 工业互联网 区块链 云计算 大数据平台 数据库 操作系统 嵌入式系统 通信协议 毫米波 天线阵列 光通信 激光雷达 北斗导航 信号处理 自然语言处理 知识图谱 推荐算法 深度学习 神经网络 隐私计算 数字孪生".split(),
    "生物医药": "单克隆抗体 基因编辑 细胞治疗 疫苗 小分子药物 中药提取 体外诊断 医疗器械 生物传感 药物递送 纳米载体 干细胞 蛋白纯化 发酵工艺 酶制剂 核酸检测 影像诊断 康复器械 手术机器人 缓释制剂 靶向药物 多肽合成 抗菌材料 组织工程 微流控芯片 基因测序 生物反应器 临床试验 药效评价 病原检测".split(),
    "智能制造": "工业机器人 数控机床 精密加工 激光焊接 视觉检测 自动化产线 柔性制造 智能工厂 减速器 伺服电机 运动控制 故障诊断 预测性维护 质量追溯 工艺优化 注塑成型 模具设计 三维测量 装配工艺 物流分拣 无人搬运车 协作机器人 机械臂 传动系统 液压系统 振动抑制 刀具磨损 热处理 表面处理 在线监测".split(),
    "节能环保": "污水处理 膜分离 废气治理 脱硫脱硝 固废资源化 土壤修复 重金属去除 垃圾焚烧 余热回收 节能改造 碳捕集 污泥处置 水质监测 大气监测 除尘设备 催化氧化 生物降解 危废处理 再生利用 清洁生产 噪声控制 中水回用 厌氧消化 吸附材料 光催化 电化学处理 高盐废水 有机废气 环境监测 生态修复".split(),
    "现代农业": "育种技术 分子标记 节水灌溉 智慧农业 植保无人机 生物农药 有机肥料 土壤改良 设施农业 水产养殖 畜禽养殖 饲料添加剂 农产品加工 冷链物流 保鲜技术 病虫害防治 精准施肥 种子包衣 作物栽培 食用菌 茶叶加工 果蔬采摘 农机装备 秸秆利用 兽用疫苗 动物疫病 遥感监测 品质检测 功能食品 发酵食品".split(),
    "交通航空": "新能源汽车 自动驾驶 车联网 轨道交通 无人机 航空发动机 复合材料机身 轻量化 制动系统 转向系统 电驱动 混合动力 船舶动力 港口自动化 智能交通 路面材料 桥梁检测 隧道施工 导航定位 飞行控制 卫星通信 高速列车 轮轨系统 车身结构 碰撞安全 燃油喷射 尾气净化 电机控制器 车载网络 智能座舱".split(),
    "化工": "精细化工 催化剂 聚合工艺 分离提纯 反应器设计 煤化工 石油化工 合成氨 表面活性剂 涂料树脂 胶黏剂 染料中间体 农药中间体 电子化学品 高纯试剂 萃取工艺 结晶工艺 精馏塔 连续流反应 绿色合成 离子液体 分子筛 加氢工艺 氧化工艺 氯碱 有机硅 氟化工 过程控制 安全评价 工艺放大".split(),
    "建筑工程": "装配式建筑 绿色建筑 建筑节能 保温材料 混凝土外加剂 高性能混凝土 钢结构 抗震技术 地基处理 基坑支护 防水材料 建筑信息模型 施工机械 盾构机 隧道衬砌 智慧工地 结构监测 幕墙系统 预制构件 透水铺装 地下管廊 城市更新 海绵城市 既有建筑 节能门窗 光伏建筑一体化 室内环境 声学材料 消防安全 检测鉴定".split(),
}

GENERAL_WORDS = "技术 方法 系统 装置 工艺 设备 平台 应用 研究 开发 制备 优化 检测 控制 集成 产业化 关键 高效 低成本 智能 新型 一种 基于 用于 及其 方案 性能 效率 稳定性 可靠性".split()

ACHIEVEMENT_OPENERS = ["本成果", "本项目", "该技术", "项目团队", "本发明"]
ACHIEVEMENT_VERBS = ["研发了", "提出了", "突破了", "建立了", "开发了", "实现了"]
ACHIEVEMENT_CLAIMS = ["显著提高了", "有效降低了", "大幅提升了", "解决了", "改善了"]
DEMAND_OPENERS = ["我公司", "本企业", "我单位", "公司"]
DEMAND_VERBS = ["急需", "寻求", "希望引进", "需要解决", "拟合作开发"]


def load_fields(seed_dir: str | None = None) -> dict[str, list[str]]:
    """Field -> terms from seeds/fields/*.toml ([terms] lists) when present, else the built-in list."""
    seed_dir = seed_dir or os.path.join(os.path.dirname(__file__), "..", "seeds", "fields")
    fields: dict[str, list[str]] = {}
    for path in sorted(glob.glob(os.path.join(seed_dir, "*.toml"))):
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
        terms = _collect_terms(data.get("terms", {}))
        if terms:
            name = data.get("name") or os.path.splitext(os.path.basename(path))[0]
            fields[str(name)] = sorted(set(terms))
    return fields or BUILTIN_FIELDS


def _collect_terms(node) -> list[str]:
    # [terms] may be a table of lists (core = [...], methods = [...]) or one list; take every string.
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [t for item in node for t in _collect_terms(item)]
    if isinstance(node, dict):
        return [t for item in node.values() for t in _collect_terms(item)]
    return []


class CorpusGenerator:
    """Draws field-coherent achievement and demand texts with Zipf-like term frequencies."""

    def __init__(self, fields: dict[str, list[str]] | None = None, seed: int = 0):
        self.fields = fields or load_fields()
        self.names = list(self.fields)
        self.rng = np.random.default_rng(seed)
        # Field popularity and within-field term popularity are skewed, as in real catalogues.
        self.field_p = _zipf_weights(len(self.names), 0.6)
        self.term_arrays = [np.array(self.fields[n]) for n in self.names]
        self.term_p = [_zipf_weights(len(t), 0.9) for t in self.term_arrays]
        self.general = np.array(GENERAL_WORDS)

    def _draw(self, n: int, n_own: int, n_general: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Vectorised draw: a field per text, n_own own-field terms plus n_own//6 cross-field terms, general words."""
        r = self.rng
        field = r.choice(len(self.names), size=n, p=self.field_p)
        # About one term in six comes from another field: real projects are cross-disciplinary.
        n_cross = max(1, n_own // 6)
        other = r.integers(len(self.names), size=n)
        terms = np.empty((n, n_own + n_cross), dtype=object)
        for j, vocab in enumerate(self.term_arrays):
            cdf = np.cumsum(self.term_p[j])
            rows = np.flatnonzero(field == j)
            pick = np.minimum(np.searchsorted(cdf, r.random((rows.size, n_own))), len(vocab) - 1)
            terms[rows, :n_own] = vocab[pick]
            rows = np.flatnonzero(other == j)
            pick = np.minimum(np.searchsorted(cdf, r.random((rows.size, n_cross))), len(vocab) - 1)
            terms[rows, n_own:] = vocab[pick]
        general = self.general[r.integers(len(self.general), size=(n, n_general))]
        return field, terms, general

    def achievements(self, n: int) -> tuple[list[str], list[str], np.ndarray]:
        """n achievement (title, summary) pairs and their field numbers."""
        field, t, g = self._draw(n, 12, 6)
        areas = self.rng.integers(1, 8, size=n)   # how many application areas the summary lists
        o, v, c = (self.rng.integers(len(x), size=n) for x in (ACHIEVEMENT_OPENERS, ACHIEVEMENT_VERBS, ACHIEVEMENT_CLAIMS))
        titles, bodies = [], []
        for i in range(n):
            ti, gi = t[i], g[i]
            titles.append(f"{gi[0]}{ti[0]}{ti[1]}{gi[1]}")
            bodies.append(f"{ACHIEVEMENT_OPENERS[o[i]]}{ACHIEVEMENT_VERBS[v[i]]}{gi[2]}{ti[2]}{ti[3]}{gi[3]}，"
                          f"采用{ti[4]}与{ti[5]}相结合的{gi[4]}，{ACHIEVEMENT_CLAIMS[c[i]]}{ti[6]}{gi[5]}。"
                          f"可应用于{'、'.join(ti[7:7 + areas[i]])}等领域。")
        return titles, bodies, field.astype(np.int16)

    def demands(self, n: int) -> tuple[list[str], list[str], np.ndarray]:
        """n enterprise demand (title, description) pairs and their field numbers."""
        field, t, g = self._draw(n, 7, 3)
        o, v = (self.rng.integers(len(x), size=n) for x in (DEMAND_OPENERS, DEMAND_VERBS))
        titles, bodies = [], []
        for i in range(n):
            ti, gi = t[i], g[i]
            titles.append(f"{ti[0]}{gi[0]}需求")
            bodies.append(f"{DEMAND_OPENERS[o[i]]}{DEMAND_VERBS[v[i]]}{ti[0]}{ti[1]}{gi[1]}，"
                          f"现有{ti[2]}存在{gi[2]}不足，希望在{'、'.join(ti[3:])}方面开展合作。")
        return titles, bodies, field.astype(np.int16)


def _zipf_weights(n: int, s: float) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** s
    return w / w.sum()
