"""Run-time messages in the visitor's language: templates with named values, in the catalogue's
three languages, formatted on the server.

gr.I18n (words.py) translates whole entries in the browser and passes them no values, so what
the studio composes as it runs (the cost lines, progress, refusals, notices) is said here:
`say(language, key, **values)` formats the template of key in the language that
`language_of(request)` reads from the event's Accept-Language header, the one way the UI picks
a language. The choice follows the page's own rule for its static words (a catalogue language
matches a browser language it is a prefix of: "es-MX" speaks "es", "zh-CN" "zh-CN", "zh-TW"
and "fr" English), for the most-liked language only: gr.I18n takes the browser's first one
or English, never the next.

The core (heurist_ui/*.py) speaks English to every caller (CLI, MCP, REST); its errors a
visitor meets most carry a code and their named values (errors.HeuristError), which
`error_text` says again here. Their English templates repeat the core's words, and a test keeps
the two equal; in English the core's own message is shown, so nothing changes for English
visitors. Values are outside text (an API's error body, a host): whoever shows the result
escapes it as before (markup.as_text, errors.user_error).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..cost import Price
from ..flux_lora import FLUX_LORA_PRICE_NOTE
from ..video import HUNYUAN, MOCHI
from ..workflow import KNOWN_STATUSES
from .words import LANGUAGES, PREFIX, catalogue, slug

ENGLISH = LANGUAGES[0]
MAX_HEADER_CHARS = 400  # of Accept-Language read: browsers send well under 100
MAX_RANGES = 16  # language ranges read from it
_RANGE = re.compile(
    r"\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8}){0,4}|\*)\s*"
    r"(?:;\s*q\s*=\s*(0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?))?\s*"
)

# key: (English, Spanish, Chinese); {name} is a value, {{ and }} are braces.
MESSAGES: dict[str, tuple[str, str, str]] = {
    # Counts and progress
    "count.image": ("{n} image", "{n} imagen", "{n} 张图像"),
    "count.images": ("{n} images", "{n} imágenes", "{n} 张图像"),
    "count.cell": ("{n} cell", "{n} celda", "{n} 个单元格"),
    "count.cells": ("{n} cells", "{n} celdas", "{n} 个单元格"),
    "count.job": ("{n} job", "{n} trabajo", "{n} 个任务"),
    "count.jobs": ("{n} jobs", "{n} trabajos", "{n} 个任务"),
    "progress": ("{done} of {counted}", "{done} de {counted}", "已完成 {done} / {counted}"),
    "summary.variations": (
        "{variations} variations × {each} = {total}",
        "{variations} variaciones × {each} = {total}",
        "{variations} 种变体 × {each} = {total}",
    ),
    # Cost lines
    "price": (
        "{credits} credits (${usd})",
        "{credits} créditos ({usd} US$)",
        "{credits} 积分（{usd} 美元）",
    ),
    "cost.pick": (
        "Cost: pick a model to see the estimate.",
        "Costo: elige un modelo para ver la estimación.",
        "费用：选择一个模型即可查看估算。",
    ),
    "cost.not_runnable": (
        "Cost: **not runnable**: {problem}",
        "Costo: **no se puede ejecutar**: {problem}",
        "费用：**无法运行**：{problem}",
    ),
    "cost.line": (
        "**≈ {each}** per image · **{total}** for {summary} ({kind}, {width}×{height}, "
        "{steps} steps{style})  \n<small>{prices}; {note}.</small>",
        "**≈ {each}** por imagen · **{total}** por {summary} ({kind}, {width}×{height}, "
        "{steps} pasos{style})  \n<small>{prices}; {note}.</small>",
        "每张 **≈ {each}** · {summary}共 **{total}**（{kind}，{width}×{height}，"
        "{steps} 步{style}）  \n<small>{prices}；{note}。</small>",
    ),
    "cost.grid": (
        "**≈ {total}** for {summary} ({rows} × {columns})  \n{per_row}  \n<small>{prices}; "
        "{credits} in the seed document's standard unit.</small>",
        "**≈ {total}** por {summary} ({rows} × {columns})  \n{per_row}  \n<small>{prices}; "
        "{credits} en la unidad estándar del documento de partida.</small>",
        "{summary}共 **≈ {total}**（{rows} × {columns}）  \n{per_row}  \n<small>{prices}；"
        "按种子文档的标准单位为 {credits}。</small>",
    ),
    "cost.style": (", style {style}", ", estilo {style}", "，风格 {style}"),
    "cost.prices": (
        "Heurist's current credits-page prices, 100 credits = $1",
        "Precios actuales de la página de créditos de Heurist, 100 créditos = 1 US$",
        "按 Heurist 积分页面的现行价格，100 积分 = 1 美元",
    ),
    "cost.unit": (
        "{credits} per image in the seed document's standard unit",
        "{credits} por imagen en la unidad estándar del documento de partida",
        "按种子文档的标准单位，每张 {credits}",
    ),
    "cost.price": ("Cost: {price}. {note}.", "Costo: {price}. {note}.", "费用：{price}。{note}。"),
    "cost.note": ("Cost: {note}.", "Costo: {note}.", "费用：{note}。"),
    "cost.choose_lora": ("Choose a LoRA.", "Elige un LoRA.", "请选择一个 LoRA。"),
    "cost.unpriced": ("Cost: — ({problem})", "Costo: — ({problem})", "费用：—（{problem}）"),
    "price.flux_lora": (
        FLUX_LORA_PRICE_NOTE,
        "0.5 créditos por imagen de 1024×1024 a 20 pasos (página de créditos de Heurist)",
        "1024×1024、20 步的图像每张 0.5 积分（Heurist 积分页面）",
    ),
    "price.hunyuan": (
        HUNYUAN.price_note,
        "Página de créditos de Heurist: 25 créditos por 5 s de Hunyuan. Video: 848×480, 73 "
        "fotogramas a 24 fps (unos 3 s), 20 pasos",
        "Heurist 积分页面：Hunyuan 每 5 秒 25 积分。视频：848×480，73 帧，24 fps（约 3 秒），20 步",
    ),
    "price.mochi": (
        MOCHI.price_note,
        "Heurist no publica un precio para Mochi: el costo no se sabe hasta que se cobra",
        "Heurist 未公布 Mochi 的价格：扣费之前无法得知费用",
    ),
    # A workflow task (video, FLUX LoRA) as it goes: workflow.TaskStatus.describe
    "task.creating": ("Creating the task…", "Creando la tarea…", "正在创建任务…"),
    "task.waiting": (
        "Waiting · {seconds:.0f} s",
        "En espera · {seconds:.0f} s",
        "等待中 · {seconds:.0f} 秒",
    ),
    "task.queued": (
        "Waiting, number {place} in the queue · {seconds:.0f} s",
        "En espera, número {place} en la cola · {seconds:.0f} s",
        "等待中，队列第 {place} 位 · {seconds:.0f} 秒",
    ),
    "task.running": (
        "Running · {seconds:.0f} s",
        "En curso · {seconds:.0f} s",
        "运行中 · {seconds:.0f} 秒",
    ),
    "task.finished": (
        "Finished · {seconds:.0f} s",
        "Terminada · {seconds:.0f} s",
        "已完成 · {seconds:.0f} 秒",
    ),
    "task.failed": (
        "Failed · {seconds:.0f} s",
        "Falló · {seconds:.0f} s",
        "失败 · {seconds:.0f} 秒",
    ),
    "task.canceled": (
        "Canceled · {seconds:.0f} s",
        "Cancelada · {seconds:.0f} s",
        "已取消 · {seconds:.0f} 秒",
    ),
    "task.saved": (
        "Finished in {seconds:.0f} s · saved as {file}",
        "Terminada en {seconds:.0f} s · guardada como {file}",
        "用时 {seconds:.0f} 秒完成 · 已保存为 {file}",
    ),
    "choose_lora": (
        "Choose a LoRA from the list.",
        "Elige un LoRA de la lista.",
        "请从列表中选择一个 LoRA。",
    ),
    # Notices
    "refresh.remote": (
        "Model list refreshed.",
        "Lista de modelos actualizada.",
        "模型列表已刷新。",
    ),
    "refresh.cache": (
        "Heurist's model list is unreachable: showing the last saved copy.",
        "No se puede acceder a la lista de modelos de Heurist: se muestra la última copia "
        "guardada.",
        "无法获取 Heurist 的模型列表：显示上次保存的副本。",
    ),
    "refresh.bundled": (
        "Heurist's model list is unreachable: showing the built-in list.",
        "No se puede acceder a la lista de modelos de Heurist: se muestra la lista incluida.",
        "无法获取 Heurist 的模型列表：显示内置列表。",
    ),
    "history.restored": (
        "Settings restored from history.",
        "Ajustes restaurados desde el historial.",
        "已从历史记录恢复设置。",
    ),
    "history.image_gone": (
        "Settings restored from history. Its image is no longer kept here (older images are "
        "deleted to stay within the studio's storage); generate again to remake it, the seed is "
        "the same.",
        "Ajustes restaurados desde el historial. Su imagen ya no se guarda aquí (las imágenes "
        "más antiguas se borran para no pasar del espacio del estudio); genera de nuevo para "
        "rehacerla, la semilla es la misma.",
        "已从历史记录恢复设置。它的图像已不再保存在这里（为不超出工作室的存储空间，较早的图像会被"
        "删除）；再次生成即可重新得到它，种子相同。",
    ),
    "history.pick_first": (
        "Pick an image in the history first.",
        "Primero elige una imagen del historial.",
        "请先在历史记录中选择一张图像。",
    ),
    # {model}: the record's model, quoted, as outside text
    "restore.no_model": (
        "Model {model} is not offered by Heurist now: the current model was kept.",
        "Heurist ya no ofrece el modelo {model}: se mantuvo el modelo actual.",
        "Heurist 目前不提供模型 {model}：已保留当前模型。",
    ),
    "video.pick_first": (
        "Pick a video in the history first.",
        "Primero elige un video del historial.",
        "请先在历史记录中选择一个视频。",
    ),
    "video.gone": (
        "This video is no longer kept here (older files are deleted to stay within the "
        "studio's storage). Restore its settings and generate again to remake it.",
        "Este video ya no se guarda aquí (los archivos más antiguos se borran para no pasar del "
        "espacio del estudio). Restaura sus ajustes y genera de nuevo para rehacerlo.",
        "此视频已不再保存在这里（为不超出工作室的存储空间，较早的文件会被删除）。恢复它的设置并"
        "再次生成即可重新得到它。",
    ),
    "video.choose": (
        "Choose a video model: {models}.",
        "Elige un modelo de video: {models}.",
        "请选择视频模型：{models}。",
    ),
    # {model}: the generator's model, quoted, as outside text
    "compare.not_a_row": (
        "Model {model} cannot be a Compare row: the rows were kept. Pick the model here.",
        "El modelo {model} no puede ser una fila de Comparar: se mantuvieron las filas. Elige "
        "el modelo aquí.",
        "模型 {model} 不能作为对比的一行：已保留原有的行。请在这里选择模型。",
    ),
    # What a link carried that was ignored (links.py, workflow_links.py); names are the link's
    "link.ignored": (
        "Ignored from the link: {items}.",
        "Se ignoró del enlace: {items}.",
        "已忽略链接中的：{items}。",
    ),
    "link.not_offered": (
        "{name} {value} (not offered now)",
        "{name} {value} (no se ofrece ahora)",
        "{name} {value}（目前未提供）",
    ),
    "link.not_of_tab": (
        "{name} {value} (not a model of this tab)",
        "{name} {value} (no es un modelo de esta pestaña)",
        "{name} {value}（不是此标签页的模型）",
    ),
    "link.too_long": ("{name} (too long)", "{name} (demasiado largo)", "{name}（过长）"),
    "link.range": (
        "{name} {value} ({low} to {high})",
        "{name} {value} (de {low} a {high})",
        "{name} {value}（{low} 到 {high}）",
    ),
    "link.not_a_style": (
        "{name} {value} (not a style here)",
        "{name} {value} (no es un estilo de aquí)",
        "{name} {value}（此处没有这个风格）",
    ),
    "link.seed": (
        "{name} {value} (-1, or a whole number from 0)",
        "{name} {value} (-1, o un número entero desde 0)",
        "{name} {value}（-1，或从 0 起的整数）",
    ),
    # Refusals' titles
    "title.no_key": ("No API key", "Falta la clave de API", "缺少 API 密钥"),
    "title.settings": ("Check the settings", "Revisa los ajustes", "请检查设置"),
    "title.grid": ("Check the grid", "Revisa la cuadrícula", "请检查网格"),
    "title.failed": ("Generation failed", "La generación falló", "生成失败"),
    "title.every_cell_failed": (
        "Every cell failed",
        "Fallaron todas las celdas",
        "所有单元格都失败了",
    ),
    "title.nothing_sent": ("Nothing was sent", "No se envió nada", "未发送任何内容"),
    "title.image_failed": ("The image failed", "La imagen falló", "图像生成失败"),
    "title.video_failed": ("The video failed", "El video falló", "视频生成失败"),
    "title.too_large": ("Too large", "Demasiado grande", "请求过大"),
    "title.slow_down": ("Slow down", "Más despacio", "请放慢速度"),
    "title.enhance_failed": ("Enhance failed", "Mejorar falló", "优化失败"),
    # {name}: the description's language, as the language model named it (plain words)
    "enhance.translated": (
        "Your description was in {name}: Enhance wrote the prompt in English.",
        "Tu descripción estaba en {name}: Mejorar escribió el prompt en inglés.",
        "你的描述使用的是 {name}：优化已用英文写出提示词。",
    ),
    # The studio's own rate limit (ratelimit.RateLimit.message)
    "limit.slow_down": (
        "Slow down: This request needs {jobs}, and this studio runs at most {per_minute} jobs a "
        "minute for each visitor on its own key. Try again in {wait:.0f} s, or paste your own "
        "Heurist key (API key) to have no limit.",
        "Más despacio: esta solicitud necesita {jobs}, y este estudio hace como máximo "
        "{per_minute} trabajos por minuto para cada visitante con su propia clave. Vuelve a "
        "intentarlo en {wait:.0f} s, o pega tu propia clave de Heurist (Clave de API) para no "
        "tener límite.",
        "请放慢速度：此请求需要 {jobs}，而本工作室使用自己的密钥时，每位访客每分钟最多运行 "
        "{per_minute} 个任务。请在 {wait:.0f} 秒后重试，或粘贴你自己的 Heurist 密钥"
        "（API 密钥）以取消限制。",
    ),
    "limit.too_large": (
        "Too large: This request needs {jobs}, and this studio runs at most {per_minute} jobs a "
        "minute for each visitor on its own key. Lower Images, remove some {{a|b}} options or "
        "compare fewer cells, or paste your own Heurist key (API key) to have no limit.",
        "Demasiado grande: esta solicitud necesita {jobs}, y este estudio hace como máximo "
        "{per_minute} trabajos por minuto para cada visitante con su propia clave. Baja "
        "Imágenes, quita algunas opciones {{a|b}} o compara menos celdas, o pega tu propia clave "
        "de Heurist (Clave de API) para no tener límite.",
        "请求过大：此请求需要 {jobs}，而本工作室使用自己的密钥时，每位访客每分钟最多运行 "
        "{per_minute} 个任务。请减少图像数量、去掉一些 {{a|b}} 选项或对比更少的单元格，"
        "或粘贴你自己的 Heurist 密钥（API 密钥）以取消限制。",
    ),
    # A batch's failures (batch.summarize_failures)
    "failed.some": (
        "{failed} of {count} images failed.",
        "Fallaron {failed} de {count} imágenes.",
        "{count} 张图像中有 {failed} 张失败。",
    ),
    # The core's errors, by code (errors.HeuristError.code)
    "error.said": (" The API said: {detail}", " La API dijo: {detail}", " API 的回复：{detail}"),
    "error.empty_prompt": (
        "The prompt is empty. Describe the image you want.",
        "El prompt está vacío. Describe la imagen que quieres.",
        "提示词为空。请描述你想要的图像。",
    ),
    "error.size": (
        "{name} must be between {minimum} and {maximum} pixels for this model, not {value:g}.",
        "{name} debe estar entre {minimum} y {maximum} píxeles para este modelo, no {value:g}.",
        "此模型的{name}必须在 {minimum} 到 {maximum} 像素之间，而不是 {value:g}。",
    ),
    "error.rejected_key": (
        "The API key was rejected ({status}). Check HEURIST_API_KEY or paste a valid key "
        "(format user_id#api_key) in the API key field.",
        "La clave de API fue rechazada ({status}). Revisa HEURIST_API_KEY o pega una clave "
        "válida (con la forma user_id#api_key) en el campo Clave de API.",
        "API 密钥被拒绝（{status}）。请检查 HEURIST_API_KEY，或在 API 密钥栏中粘贴有效的密钥"
        "（格式为 user_id#api_key）。",
    ),
    "error.no_credits": (
        "The account has no credits left ({status}). Top up your Heurist credits or use "
        "another key, then try again.",
        "A la cuenta no le quedan créditos ({status}). Recarga tus créditos de Heurist o usa "
        "otra clave y vuelve a intentarlo.",
        "账户积分已用完（{status}）。请充值 Heurist 积分或换用其他密钥，然后重试。",
    ),
    "error.rate_limited": (
        "Heurist is rate limiting this key ({status}). Wait a minute, or generate fewer "
        "images at once, then try again.",
        "Heurist está limitando la frecuencia de esta clave ({status}). Espera un minuto o "
        "genera menos imágenes a la vez y vuelve a intentarlo.",
        "Heurist 正在限制此密钥的请求频率（{status}）。请等一分钟，或一次生成更少的图像，"
        "然后重试。",
    ),
    "error.refused": (
        "The API refused the request ({status}). Check the model, size and steps, then try again.",
        "La API rechazó la solicitud ({status}). Revisa el modelo, el tamaño y los pasos y "
        "vuelve a intentarlo.",
        "API 拒绝了请求（{status}）。请检查模型、尺寸和步数，然后重试。",
    ),
    "error.server_failed": (
        "Heurist failed on its side ({status}). Try again in a moment; if it keeps "
        "happening, try another model.",
        "Heurist falló por su parte ({status}). Vuelve a intentarlo en un momento; si sigue "
        "pasando, prueba otro modelo.",
        "Heurist 服务端出错（{status}）。请稍后重试；如果一直出错，请换一个模型。",
    ),
    "error.unexpected_status": (
        "The API answered with an unexpected status ({status}). Try again later.",
        "La API respondió con un estado inesperado ({status}). Vuelve a intentarlo más tarde.",
        "API 返回了意外的状态（{status}）。请稍后重试。",
    ),
    "error.connect_timeout": (
        "Could not connect to Heurist at {host} within {seconds:g} s. Check your internet "
        "connection and HEURIST_BASE_URL, then try again.",
        "No se pudo conectar con Heurist en {host} en {seconds:g} s. Revisa tu conexión a "
        "internet y HEURIST_BASE_URL y vuelve a intentarlo.",
        "无法在 {seconds:g} 秒内连接到位于 {host} 的 Heurist。请检查网络连接和 "
        "HEURIST_BASE_URL，然后重试。",
    ),
    "error.deadline": (
        "Heurist did not finish answering within {seconds:g} s, so the call was stopped. The "
        "job may still have run (and been billed), so it was not sent again. Check your "
        "Heurist account's usage before trying again.",
        "Heurist no terminó de responder en {seconds:g} s, así que se detuvo la llamada. Puede "
        "que el trabajo se haya hecho (y cobrado), así que no se volvió a enviar. Revisa el uso "
        "de tu cuenta de Heurist antes de volver a intentarlo.",
        "Heurist 未能在 {seconds:g} 秒内完成应答，因此调用已停止。任务可能已经运行（并已计费），"
        "所以没有重新发送。重试前请先查看你的 Heurist 账户用量。",
    ),
    "error.read_timeout": (
        "Heurist did not answer within {seconds:g} s. The job may still have run (and been "
        "billed), so it was not sent again. Try again later.",
        "Heurist no respondió en {seconds:g} s. Puede que el trabajo se haya hecho (y cobrado), "
        "así que no se volvió a enviar. Vuelve a intentarlo más tarde.",
        "Heurist 未在 {seconds:g} 秒内应答。任务可能已经运行（并已计费），所以没有重新发送。"
        "请稍后重试。",
    ),
    "error.dropped": (
        "Heurist at {host} dropped the connection before finishing its answer. The job may "
        "still have run (and been billed), so it was not sent again. Try again.",
        "Heurist en {host} cortó la conexión antes de terminar su respuesta. Puede que el "
        "trabajo se haya hecho (y cobrado), así que no se volvió a enviar. Vuelve a intentarlo.",
        "位于 {host} 的 Heurist 在应答完成前断开了连接。任务可能已经运行（并已计费），"
        "所以没有重新发送。请重试。",
    ),
    "error.broke_after_sending": (
        "The connection to Heurist at {host} broke after the job was sent, so it may have run "
        "(and been billed); it was not sent again. Check your Heurist account's usage before "
        "trying again.",
        "La conexión con Heurist en {host} se cortó después de enviar el trabajo, así que puede "
        "que se haya hecho (y cobrado); no se volvió a enviar. Revisa el uso de tu cuenta de "
        "Heurist antes de volver a intentarlo.",
        "任务发送后，与位于 {host} 的 Heurist 的连接中断了，因此任务可能已经运行（并已计费）；"
        "没有重新发送。重试前请先查看你的 Heurist 账户用量。",
    ),
    "error.refused_connection": (
        "Could not reach Heurist at {host}: the connection was refused. Check your internet "
        "connection and HEURIST_BASE_URL, then try again.",
        "No se pudo llegar a Heurist en {host}: la conexión fue rechazada. Revisa tu conexión "
        "a internet y HEURIST_BASE_URL y vuelve a intentarlo.",
        "无法访问位于 {host} 的 Heurist：连接被拒绝。请检查网络连接和 HEURIST_BASE_URL，然后重试。",
    ),
    "error.connection_failed": (
        "Could not reach Heurist at {host}: the connection failed. Check your internet "
        "connection and HEURIST_BASE_URL, then try again.",
        "No se pudo llegar a Heurist en {host}: la conexión falló. Revisa tu conexión a "
        "internet y HEURIST_BASE_URL y vuelve a intentarlo.",
        "无法访问位于 {host} 的 Heurist：连接失败。请检查网络连接和 HEURIST_BASE_URL，然后重试。",
    ),
}

_PRICE_NOTES = {
    MESSAGES[key][0]: key for key in ("price.flux_lora", "price.hunyuan", "price.mochi")
}


PAGE_CALLER = ("x-gradio-user", "app")  # the header Gradio's page sends with its events


def language_of(request: Any) -> str:
    """The catalogue language an event's visitor reads, from its Accept-Language header.

    Only for the page's own events: a script or an agent (REST, gradio_client, MCP) gets
    English whatever it sends, as the core's other callers do.
    """
    headers = getattr(request, "headers", None)
    try:
        from_page = headers.get(PAGE_CALLER[0]) == PAGE_CALLER[1]
        header = headers.get("accept-language")
    except (AttributeError, TypeError):
        return ENGLISH
    return best_language(header) if from_page else ENGLISH


def best_language(header: Any) -> str:
    """The catalogue language of an Accept-Language value's most-liked range; English if the
    catalogue has none of that language, as the page's static words do (gr.I18n takes the
    browser's first language or falls back to English; it never tries the next one).

    Only the first MAX_HEADER_CHARS characters and MAX_RANGES ranges are read, so a forged
    header costs nothing; a malformed range is skipped, a tie goes to the earlier one.
    """
    if not isinstance(header, str):
        return ENGLISH
    liked, liked_q = None, 0.0
    for part in header[:MAX_HEADER_CHARS].split(",")[:MAX_RANGES]:
        found = _RANGE.fullmatch(part)
        if found is None:
            continue
        q = float(found.group(2)) if found.group(2) else 1.0
        if q > liked_q:
            liked, liked_q = found.group(1), q
    return (_catalogue_language(liked) if liked else None) or ENGLISH


def _catalogue_language(tag: str) -> str | None:
    """The catalogue language tag speaks: one whose subtags begin it ("es" for "es-MX")."""
    subtags = tag.lower().split("-")
    for language in LANGUAGES:
        own = language.lower().split("-")
        if subtags[: len(own)] == own:
            return language
    return None


def say(language: str, key: str, **values: Any) -> str:
    """The message under key in language (English for one the catalogue lacks), with values."""
    index = LANGUAGES.index(language) if language in LANGUAGES else 0
    return MESSAGES[key][index].format(**values)


def counted(language: str, noun: str, n: int) -> str:
    """'1 image', '4 images' (noun: image, cell or job) in language."""
    return say(language, f"count.{noun}" if n == 1 else f"count.{noun}s", n=n)


def progress_text(language: str, done: int, total: int, noun: str) -> str:
    """Progress in the words of what is counted: '2 of 4 images', '1 of 1 image'."""
    return say(language, "progress", done=done, counted=counted(language, noun, total))


def price_text(language: str, price: Price) -> str:
    """A Price as cost.Price says it: '0.44 credits ($0.0044)'."""
    credits, usd = price.figures()
    return say(language, "price", credits=credits, usd=usd)


def price_note(language: str, note: str) -> str:
    """A kind's price note (jobkinds.WorkflowKind.price_note) in language, if translated."""
    key = _PRICE_NOTES.get(note)
    return say(language, key) if key and language != ENGLISH else note


def task_text(language: str, status: Any) -> str:
    """A workflow.TaskStatus as its describe() says it, in language."""
    if language == ENGLISH:
        return status.describe()
    seconds, state = status.elapsed_s, status.status
    if state == "waiting" and status.queue_position:
        return say(language, "task.queued", place=status.queue_position, seconds=seconds)
    if state not in KNOWN_STATUSES:
        return status.describe()
    return say(language, f"task.{state}", seconds=seconds)


def no_key(language: str) -> str:
    """key.NO_KEY_MESSAGE in language: the key panel's own notice (words.py key.missing)."""
    return catalogue()[language][PREFIX + "key.missing"].removeprefix("⚠️ ")


def title(language: str, name: str) -> str:
    """A refusal's title (title.<name>) in language."""
    return say(language, f"title.{name}")


def error_text(error: BaseException, language: str) -> str:
    """The error's message in language: its code's template, or its own (English) words.

    In English, and for an error with no template, it is the core's own message.
    """
    code = getattr(error, "code", None)
    key = f"error.{code}"
    if language == ENGLISH or key not in MESSAGES:
        return str(error)
    values = dict(getattr(error, "values", {}))
    if code == "size":
        label = PREFIX + f"setting.{slug(str(values.get('name', '')))}"
        values["name"] = catalogue()[language].get(label, values.get("name"))
    text = say(language, key, **values)
    if values.get("detail"):
        text += say(language, "error.said", detail=values["detail"])
    return text


def failures_text(failures: Sequence[str], count: int, language: str) -> str:
    """batch.summarize_failures in language: how many failed, and the distinct reasons."""
    distinct = list(dict.fromkeys(failures))
    if count == 1:
        return distinct[0]
    head = say(language, "failed.some", failed=len(failures), count=count)
    return " ".join([head, *distinct[:3]])


def rate_limit_text(language: str, per_minute: int, wait: float, units: int) -> str:
    """ratelimit.RateLimit.message in language."""
    key = "limit.too_large" if wait == float("inf") else "limit.slow_down"
    jobs = counted(language, "job", units)
    return say(language, key, jobs=jobs, per_minute=per_minute, wait=wait)
