"""The page's words in English, Spanish and Simplified Chinese: one catalogue, read by gr.I18n.

Every static word on the page (tabs, labels, buttons, info lines, placeholders, accordion
titles, Markdown) is a key here; components take words(key) and the browser shows the entry in
its own language, English when the catalogue has no such language. The labels and help lines
of declared settings (fields.py, video.py, flux_lora.py) stay declared there: their keys and
English words are derived from those declarations, and only the translations live here.
A component update may take words(key) too (the page translates it as it arrives).

gr.I18n looks up whole entries only and passes them no values, so the messages composed at
run time (cost lines, progress, refusals, notices) are templates with named values in
messages.py, this catalogue's sibling in the same three languages, formatted on the server in
the language messages.language_of reads from the event (the same choice the page makes here).
"""

from __future__ import annotations

import functools
import re
from typing import Any

import gradio as gr
from gradio.i18n import I18nData

from ..compare import AXES, MAX_MODELS
from ..enhance import LEVEL_NAMES
from ..fields import COUNT, MINER_MAX_STEPS, SETTINGS
from ..flux_lora import FLUX_LORA_SETTINGS
from ..video import MOCHI_SETTINGS

LANGUAGES = ("en", "es", "zh-CN")  # as browsers name them; "es-ES", "es-MX"… fall back to "es"
PREFIX = "studio."  # clear of Gradio's own keys

# key: (English, Spanish, Chinese), for the words this module declares itself.
_OWN: dict[str, tuple[str, str, str]] = {
    "tab.compare": ("Compare", "Comparar", "对比"),
    "tab.png_info": ("PNG info", "Info PNG", "PNG 信息"),
    "tab.video": ("Video", "Video", "视频"),
    "tab.flux_lora": ("FLUX LoRA", "FLUX LoRA", "FLUX LoRA"),
    "header": ("# Heurist Studio", "# Heurist Studio", "# Heurist Studio"),
    "header.sandbox": (
        "# Heurist Studio <span id='badge'>sandbox</span>",
        "# Heurist Studio <span id='badge'>pruebas</span>",
        "# Heurist Studio <span id='badge'>沙盒</span>",
    ),
    "sandbox_note": (
        "Sandbox mode: a local stand-in for Heurist renders placeholder images. No key "
        "needed, no credits spent.",
        "Modo de pruebas: un sustituto local de Heurist dibuja imágenes de muestra. No hace "
        "falta clave y no se gastan créditos.",
        "沙盒模式：由本地的 Heurist 替身生成占位图像。无需密钥，不消耗积分。",
    ),
    "tools.note": (
        "This page holds the studio's tools for AI agents (MCP, at /gradio_api/mcp/). "
        "The studio itself is at [the start page](./).",
        "Esta página guarda las herramientas del estudio para agentes de IA (MCP, en "
        "/gradio_api/mcp/). El estudio está en [la página de inicio](./).",
        "此页面存放工作室供 AI 智能体使用的工具（MCP，位于 /gradio_api/mcp/）。"
        "工作室本身在[首页](./)。",
    ),
    # The generator
    "generate": ("Generate", "Generar", "生成"),
    "stop": ("Stop", "Detener", "停止"),
    "prompt.placeholder": (
        "a lighthouse at dusk, volumetric light",
        "un faro al atardecer, luz volumétrica",
        "黄昏时的灯塔，体积光",
    ),
    "group.size": (
        "Size, steps, seed and count",
        "Tamaño, pasos, semilla y cantidad",
        "尺寸、步数、种子和数量",
    ),
    "group.prompt": (
        "Style, negative prompt, examples",
        "Estilo, prompt negativo, ejemplos",
        "风格、反向提示词、示例",
    ),
    "insert_triggers": ("Insert trigger words", "Insertar palabras de activación", "插入触发词"),
    "link_settings": (
        "🔗 Link to these settings",
        "🔗 Enlace a estos ajustes",
        "🔗 链接到这些设置",
    ),
    "refresh": ("🔄 Refresh", "🔄 Actualizar", "🔄 刷新"),
    "aspect": ("Aspect ratio", "Relación de aspecto", "宽高比"),
    "swap": ("⇄ Swap", "⇄ Invertir", "⇄ 互换"),
    "seed.info": (
        "-1 picks a new random seed per image",
        "-1 elige una semilla aleatoria nueva para cada imagen",
        "-1 表示每张图像随机选取新种子",
    ),
    "random": ("🎲 Random", "🎲 Al azar", "🎲 随机"),
    "steps.note": (
        f"Heurist's miners run at most {MINER_MAX_STEPS} steps today; more may run as "
        f"{MINER_MAX_STEPS}.",
        f"Los mineros de Heurist hacen hoy como máximo {MINER_MAX_STEPS} pasos; si pides más, "
        f"puede que se hagan {MINER_MAX_STEPS}.",
        f"Heurist 的矿工目前最多运行 {MINER_MAX_STEPS} 步；"
        f"设置更多时可能按 {MINER_MAX_STEPS} 步运行。",
    ),
    # Enhance, styles and examples
    "enhance": ("✨ Enhance", "✨ Mejorar", "✨ 优化"),
    "enhance.restore": ("↩ Restore description", "↩ Restaurar descripción", "↩ 恢复描述"),
    "enhance.settings": ("Enhance settings", "Ajustes de Mejorar", "优化设置"),
    "enhance.llm": ("Language model", "Modelo de lenguaje", "语言模型"),
    "enhance.keep": ("Must include", "Debe incluir", "必须包含"),
    "enhance.keep.placeholder": (
        "kept word for word",
        "se mantiene palabra por palabra",
        "逐字保留",
    ),
    "examples": (
        "Examples (click to fill the form)",
        "Ejemplos (haz clic para rellenar el formulario)",
        "示例（点击填入表单）",
    ),
    "style": ("Style", "Estilo", "风格"),
    # Results and history
    "results": (
        "Results (this session, newest first)",
        "Resultados (esta sesión, los más recientes primero)",
        "结果（本次会话，最新在前）",
    ),
    "records": ("Records", "Registros", "记录"),
    "record": ("Record", "Registro", "记录"),
    "reuse_seed": ("♻️ Reuse seed", "♻️ Reutilizar semilla", "♻️ 复用种子"),
    "reuse_all": ("Reuse all settings", "Reutilizar todos los ajustes", "复用全部设置"),
    "link_image": ("🔗 Link to this image", "🔗 Enlace a esta imagen", "🔗 链接到此图像"),
    "clear": ("🗑 Clear", "🗑 Borrar", "🗑 清空"),
    "notify": ("🔔 Notify me when done", "🔔 Avisarme al terminar", "🔔 完成时通知我"),
    "link": ("Link", "Enlace", "链接"),
    "history.search": ("Search", "Buscar", "搜索"),
    "history.search.placeholder": (
        "words of the prompt",
        "palabras del prompt",
        "提示词中的词语",
    ),
    "history.model": ("Model filter", "Filtrar por modelo", "按模型筛选"),
    "history.starred": ("★ only", "Solo ★", "仅 ★"),
    "history.gallery": ("History", "Historial", "历史记录"),
    "history.restore": ("Restore its settings", "Restaurar sus ajustes", "恢复其设置"),
    "history.favourite": ("★ Favourite", "★ Favorita", "★ 收藏"),
    # The API key
    "key": ("API key", "Clave de API", "API 密钥"),
    "key.placeholder": ("user_id#api_key", "user_id#api_key", "user_id#api_key"),
    "key.server": (
        "A key is configured on this server. Paste your own to use it instead (kept in your "
        "browser only).",
        "Este servidor tiene una clave configurada. Pega la tuya para usarla en su lugar (se "
        "guarda solo en tu navegador).",
        "此服务器已配置密钥。粘贴你自己的密钥即可改用它（仅保存在你的浏览器中）。",
    ),
    # Compare
    "compare.from_generator": ("⇤ From generator", "⇤ Desde el generador", "⇤ 从生成器导入"),
    "compare.models": (
        f"Models (rows, up to {MAX_MODELS})",
        f"Modelos (filas, hasta {MAX_MODELS})",
        f"模型（行，最多 {MAX_MODELS} 个）",
    ),
    "compare.columns": ("Columns", "Columnas", "列"),
    "compare.values": ("Values", "Valores", "取值"),
    "compare.hint.seed": ("seeds, e.g. 1, 2, 3", "semillas, p. ej. 1, 2, 3", "种子，例如 1, 2, 3"),
    "compare.hint.steps": (
        "steps, e.g. 15, 25, 35",
        "pasos, p. ej. 15, 25, 35",
        "步数，例如 15, 25, 35",
    ),
    "compare.hint.guidance": (
        "guidance scales, e.g. 3, 5, 7.5",
        "escalas de guía, p. ej. 3, 5, 7.5",
        "引导系数，例如 3, 5, 7.5",
    ),
    "compare.hint.prompt": ("one prompt a line", "un prompt por línea", "每行一个提示词"),
    "compare.seed.info": (
        "-1 draws one seed for the whole grid",
        "-1 elige una sola semilla para toda la cuadrícula",
        "-1 表示整张网格共用一个随机种子",
    ),
    "compare.triggers": (
        "Add LoRA trigger words to LoRA rows",
        "Añadir las palabras de activación a las filas LoRA",
        "为 LoRA 行添加触发词",
    ),
    "compare.grid": ("Grid", "Cuadrícula", "网格"),
    "compare.cells": ("Cells", "Celdas", "单元格"),
    "compare.download": ("⬇ Download all", "⬇ Descargar todo", "⬇ 全部下载"),
    # PNG info
    "png.drop": ("Drop an image", "Suelta una imagen", "拖入一张图像"),
    "png.paste": ("Or paste parameters", "O pega los parámetros", "或粘贴参数"),
    "png.hint": (
        "Drop a PNG, JPEG or WebP made here or by A1111.",
        "Suelta un PNG, JPEG o WebP creado aquí o con A1111.",
        "拖入在此处或由 A1111 生成的 PNG、JPEG 或 WebP。",
    ),
    "png.send": ("Send to generator", "Enviar al generador", "发送到生成器"),
    # Video and FLUX LoRA
    "progress": ("Progress", "Progreso", "进度"),
    "video.prompt": ("Video prompt", "Prompt del video", "视频提示词"),
    "video.prompt.placeholder": (
        "A red fox runs through snow",
        "Un zorro rojo corre por la nieve",
        "一只红狐狸在雪中奔跑",
    ),
    "video.model": ("Video model", "Modelo de video", "视频模型"),
    "video.generate": ("Generate video", "Generar video", "生成视频"),
    "video.player": ("Video", "Video", "视频"),
    "video.animation": ("Animation", "Animación", "动画"),
    "video.download": ("Download", "Descargar", "下载"),
    "video.history": ("Video history", "Historial de videos", "视频历史记录"),
    "lora.prompt": ("LoRA prompt", "Prompt del LoRA", "LoRA 提示词"),
    "lora.prompt.placeholder": (
        "A logo on a mug",
        "Un logotipo en una taza",
        "印在马克杯上的标志",
    ),
    "lora.model": ("LoRA model", "Modelo LoRA", "LoRA 模型"),
    "lora.generate": ("Generate image", "Generar imagen", "生成图像"),
    "lora.image": ("Image", "Imagen", "图像"),
}

# Translations of words declared elsewhere (settings' labels and help lines, Enhance's levels,
# texts of key.py and history.py): key -> (Spanish, Chinese). Keys come from the English.
_TRANSLATED: dict[str, tuple[str, str]] = {
    "setting.prompt": ("Prompt", "提示词"),
    "setting.negative_prompt": ("Prompt negativo", "反向提示词"),
    "setting.model": ("Modelo", "模型"),
    "setting.width": ("Ancho", "宽度"),
    "setting.height": ("Alto", "高度"),
    "setting.steps": ("Pasos", "步数"),
    "setting.guidance_scale": ("Escala de guía", "引导系数"),
    "setting.seed": ("Semilla", "种子"),
    "setting.images": ("Imágenes", "图像数量"),
    "setting.length_frames": ("Duración (fotogramas)", "时长（帧）"),
    "setting.frames_per_second": ("Fotogramas por segundo", "每秒帧数"),
    "setting.quality": ("Calidad", "质量"),
    "setting.lora_strength": ("Intensidad del LoRA", "LoRA 强度"),
    "help.video_width_in_pixels": ("ancho del video en píxeles", "视频宽度（像素）"),
    "help.video_height_in_pixels": ("alto del video en píxeles", "视频高度（像素）"),
    "help.number_of_frames": ("número de fotogramas", "帧数"),
    "help.denoising_steps_more_is_slower": (
        "pasos de eliminación de ruido; más pasos, más lento",
        "去噪步数；越多越慢",
    ),
    "help.1_for_random": ("-1 para una aleatoria", "-1 表示随机"),
    "help.playback_speed": ("velocidad de reproducción", "播放速度"),
    "help.webp_quality_of_the_output": ("calidad WebP del resultado", "输出的 WebP 质量"),
    "help.image_width_a_multiple_of_64": (
        "ancho de la imagen, múltiplo de 64",
        "图像宽度，64 的倍数",
    ),
    "help.image_height_a_multiple_of_64": (
        "alto de la imagen, múltiplo de 64",
        "图像高度，64 的倍数",
    ),
    "help.denoising_steps_the_miner_s_default_is_15": (
        "pasos de eliminación de ruido (los mineros usan 15 por defecto)",
        "去噪步数（矿工默认 15）",
    ),
    "help.how_strongly_the_lora_applies": ("cuánto influye el LoRA", "LoRA 的作用强度"),
    "compare.axis.seed": ("semilla", "种子"),
    "compare.axis.steps": ("pasos", "步数"),
    "compare.axis.guidance": ("guía", "引导系数"),
    "compare.axis.prompt": ("prompt", "提示词"),
    "history.all_models": ("Todos los modelos", "全部模型"),
    "level.stylization": ("Estilización", "风格化"),
    "level.detail": ("Detalle", "细节"),
    "level.color": ("Color", "色彩"),
    "level.lighting": ("Iluminación", "光照"),
    "key.missing": (
        "⚠️ No hay ninguna clave de API. Pega tu clave de Heurist (user_id#api_key) en el campo "
        "Clave de API, o define HEURIST_API_KEY en el entorno del servidor o en su archivo .env.",
        "⚠️ 尚未设置 API 密钥。请在 API 密钥栏中粘贴你的 Heurist 密钥（user_id#api_key），"
        "或在服务器的环境变量或 .env 文件中设置 HEURIST_API_KEY。",
    ),
    "key.get": (
        "¿Aún no tienes clave? Consíguela en [el sitio de Heurist](https://heurist.ai) (*Get API "
        "key*); tiene la forma `user_id#api_key` y se queda solo en este navegador.",
        "还没有密钥？请到 [Heurist 网站](https://heurist.ai) 获取（*Get API key*）；格式为 "
        "`user_id#api_key`，只保存在此浏览器中。",
    ),
    "history.title": (
        "Historial (este navegador, últimas {limit})",
        "历史记录（本浏览器，最近 {limit} 张）",
    ),
}


def slug(text: str) -> str:
    """A key's last part from English words: lower case, runs of other characters as _."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def setting_label(setting: Any) -> I18nData:
    """A declared setting's label (fields.py or jobkinds.py), in the page's language."""
    return words(f"setting.{slug(setting.label)}")


def setting_help(setting: Any) -> I18nData:
    """A declared setting's help line, shown as its info, in the page's language."""
    return words(f"help.{slug(setting.help)}")


def level_label(name: str) -> I18nData:
    """An Enhance level's slider label (enhance.LEVEL_NAMES)."""
    return words(f"level.{name}")


def _derived_english() -> dict[str, str]:
    """The English of the words declared elsewhere, keyed as _TRANSLATED keys them."""
    from .history import ALL_MODELS, HISTORY_LIMIT  # history.py takes its words from here
    from .key import GET_A_KEY, NO_KEY_MESSAGE

    shown_with_help = (*MOCHI_SETTINGS, *FLUX_LORA_SETTINGS)  # the form shows no fields.py help
    english = {f"setting.{slug(s.label)}": s.label for s in (*SETTINGS, COUNT, *shown_with_help)}
    english |= {f"help.{slug(s.help)}": s.help for s in shown_with_help}
    english |= {f"level.{name}": name.capitalize() for name in LEVEL_NAMES}
    english |= {f"compare.axis.{axis}": axis for axis in AXES}
    english["history.all_models"] = ALL_MODELS
    english["key.missing"] = f"⚠️ {NO_KEY_MESSAGE}"
    english["key.get"] = GET_A_KEY
    english["history.title"] = f"History (this browser, last {HISTORY_LIMIT})"
    return english


@functools.cache
def catalogue() -> dict[str, dict[str, str]]:
    """Every language's words by full key: {"en": {...}, "es": {...}, "zh-CN": {...}}."""
    from .history import HISTORY_LIMIT

    english = {key: own[0] for key, own in _OWN.items()} | _derived_english()
    languages: dict[str, dict[str, str]] = {"en": english, "es": {}, "zh-CN": {}}
    for key, (_, spanish, chinese) in _OWN.items():
        languages["es"][key], languages["zh-CN"][key] = spanish, chinese
    for key, translations in _TRANSLATED.items():
        for language, text in zip(LANGUAGES[1:], translations, strict=True):
            languages[language][key] = text.replace("{limit}", str(HISTORY_LIMIT))
    return {
        language: {PREFIX + key: text for key, text in entries.items()}
        for language, entries in languages.items()
    }


@functools.cache
def i18n() -> gr.I18n:
    """The catalogue for Blocks.launch(i18n=...): the page looks each key up in its language."""
    return gr.I18n(**catalogue())


def words(key: str) -> I18nData:
    """The words under key, for a component's label, info, placeholder or value."""
    full = PREFIX + key
    if full not in catalogue()["en"]:
        raise KeyError(f"No words {key!r} in ui/words.py: add them there, in every language.")
    return i18n()(full)


def english(text: Any) -> str:
    """A label as plain English: its catalogue entry if it is a key, else the text itself."""
    if isinstance(text, I18nData):
        return catalogue()["en"].get(text.key, text.key)
    return str(text)


def english_api_labels(demo: gr.Blocks) -> None:
    """Make demo's API description (/gradio_api/info, the API page, MCP) label its inputs and
    outputs in English: on the page their labels are catalogue keys."""
    describe = demo.get_api_info

    @functools.wraps(describe)
    def in_english(all_endpoints: bool = False, page: str | None = None) -> Any:
        info = describe(all_endpoints=all_endpoints, page=page)
        for endpoints in (info["named_endpoints"], info["unnamed_endpoints"]):
            for endpoint in endpoints.values():
                for item in (*endpoint["parameters"], *endpoint["returns"]):
                    if isinstance(item.get("label"), I18nData):
                        item["label"] = english(item["label"])
        return info

    demo.get_api_info = in_english  # type: ignore[method-assign]
